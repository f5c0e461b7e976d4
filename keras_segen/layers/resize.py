"""Resizing layers that work with unknown spatial sizes under ``tf.function``."""

import keras
from keras import ops

_INTERPOLATIONS = ("bilinear", "nearest")


def resize_images(images, height, width, interpolation="bilinear"):
    """Resizes a ``(B, H, W, C)`` batch to ``(height, width)``; sizes may be dynamic.

    Example:
        >>> x = np.ones((2, 16, 16, 3), "float32")
        >>> tuple(keras_segen.layers.resize_images(x, 32, 24).shape)
        (2, 32, 24, 3)
    """
    if isinstance(height, int) and isinstance(width, int):
        resized = ops.image.resize(images, (height, width), interpolation=interpolation)
    else:
        # keras.ops.image.resize compares the size with 0 in Python (Keras 3.14-3.15), which
        # fails for the symbolic sizes of a traced TensorFlow graph. Only the TensorFlow
        # backend has symbolic sizes here, so its resize op is the right one to call.
        import tensorflow as tf

        resized = tf.image.resize(images, tf.stack([height, width]), method=interpolation)
    return ops.cast(resized, images.dtype)


def _check_interpolation(interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}; got {interpolation!r}.")


@keras.saving.register_keras_serializable(package="keras_segen")
class ResizeLike(keras.layers.Layer):
    """Resizes the first input to the spatial size of the second input.

    Example:
        >>> coarse, image = keras.Input((8, 8, 21)), keras.Input((64, 64, 3))
        >>> keras_segen.layers.ResizeLike()([coarse, image]).shape
        (None, 64, 64, 21)
    """

    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        _check_interpolation(interpolation)
        self.interpolation = interpolation

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return resize_images(x, shape[1], shape[2], self.interpolation)

    def compute_output_shape(self, input_shape):
        x_shape, reference_shape = input_shape
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


@keras.saving.register_keras_serializable(package="keras_segen")
class Upscale2D(keras.layers.Layer):
    """Resizes ``(B, H, W, C)`` to ``(B, factor*H, factor*W, C)`` (bilinear by default).

    Unlike ``keras.layers.UpSampling2D(interpolation="bilinear")`` it traces with unknown
    H and W, so models built on it export with any input size.

    Example:
        >>> keras_segen.layers.Upscale2D(4)(keras.Input((16, 16, 8))).shape
        (None, 64, 64, 8)
        >>> x = np.array([[1.0, 2.0]], "float32").reshape(1, 1, 2, 1)
        >>> y = keras_segen.layers.Upscale2D(2, interpolation="nearest")(x)
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
        [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """

    def __init__(self, factor=2, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(factor, int) or factor < 1:
            raise ValueError(f"factor must be a positive integer; got {factor!r}.")
        _check_interpolation(interpolation)
        self.factor = factor
        self.interpolation = interpolation

    def call(self, x):
        shape = ops.shape(x)
        return resize_images(x, shape[1] * self.factor, shape[2] * self.factor, self.interpolation)

    def compute_output_shape(self, input_shape):
        def scale(size):
            return None if size is None else size * self.factor

        return (input_shape[0], scale(input_shape[1]), scale(input_shape[2]), input_shape[3])

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "interpolation": self.interpolation,
        }
