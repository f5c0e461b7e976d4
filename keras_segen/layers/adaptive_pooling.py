"""PyTorch's ``AdaptiveAvgPool2d`` (PSPNet's pyramid pooling) in three forms: fixed-size
``AveragePooling2D`` where the size divides into the bins (int8-friendly), Keras'
``AdaptiveAveragePooling2D`` for other fixed sizes, and a keras.ops layer for sizes known
only at run time."""

import keras
from keras import layers, ops


def _bins_matrix(size, bins, dtype):
    """``(bins, size)`` averaging matrix of PyTorch's adaptive pooling: row ``i`` averages
    ``[floor(i * size / bins), ceil((i + 1) * size / bins))``."""
    index = ops.arange(bins, dtype="int32")
    start = ops.expand_dims(index * size // bins, 1)
    end = ops.expand_dims(((index + 1) * size + bins - 1) // bins, 1)
    position = ops.expand_dims(ops.arange(size, dtype="int32"), 0)
    inside = ops.cast(ops.logical_and(position >= start, position < end), dtype)
    return inside / ops.sum(inside, axis=1, keepdims=True)


@keras.saving.register_keras_serializable(package="keras_segen")
class DynamicAdaptiveAveragePooling2D(keras.layers.Layer):
    """Adaptive average pooling to ``bins x bins`` for inputs whose size is known only at
    run time (PyTorch's ``AdaptiveAvgPool2d``, windows included); ``keras.layers.
    AdaptiveAveragePooling2D`` needs static sizes under TensorFlow.

    Example:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> y = keras_segen.layers.DynamicAdaptiveAveragePooling2D(2)(x)
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(self, bins, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be an integer >= 1; got {bins!r}.")
        self.bins = bins

    def call(self, x):
        shape = ops.shape(x)
        rows = _bins_matrix(shape[1], self.bins, x.dtype)  # (bins, H)
        cols = _bins_matrix(shape[2], self.bins, x.dtype)  # (bins, W)
        x = ops.einsum("ih,bhwc->biwc", rows, x)
        return ops.einsum("jw,biwc->bijc", cols, x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.bins, self.bins, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


def adaptive_average_pooling(x, bins, name):
    """PyTorch's ``AdaptiveAvgPool2d(bins)`` on ``x``: ``AveragePooling2D`` when the fixed
    size divides into the bins (the int8-friendly form), Keras' ``AdaptiveAveragePooling2D``
    for other fixed sizes, ``DynamicAdaptiveAveragePooling2D`` for unknown sizes.

    Example:
        >>> x = keras.Input((36, 36, 8))
        >>> pooled = keras_segen.layers.adaptive_average_pooling(x, 6, "pool6")
        >>> type(keras.Model(x, pooled).layers[-1]).__name__, tuple(pooled.shape)
        ('AveragePooling2D', (None, 6, 6, 8))
    """
    height, width = x.shape[1:3]
    if height is None or width is None:
        return DynamicAdaptiveAveragePooling2D(bins, name=name)(x)
    if height % bins == 0 and width % bins == 0:
        pool = (height // bins, width // bins)
        return layers.AveragePooling2D(pool, strides=pool, name=name)(x)
    return layers.AdaptiveAveragePooling2D(bins, name=name)(x)
