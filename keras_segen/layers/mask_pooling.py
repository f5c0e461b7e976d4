"""Max-unpooling by a full-resolution mask: SegNet's decoder upsampling in operators that
TFLite's XNNPACK delegate runs in int8.

``MaxPoolingWithArgmax2D`` / ``MaxUnpooling2D`` record and use the position of each maximum
as an integer, which TFLite runs with EQUAL, SELECT_V2 and TILE kernels outside XNNPACK (in
int8 slower than float32). Here the pooling layer returns a mask that is 1 where a pixel
holds its window's maximum and 0 elsewhere, and the unpooling multiplies the nearest-
neighbour upsampled decoder values by it: MAX_POOL_2D, CONCATENATION, RESHAPE, SUB, a 1x1
DEPTHWISE_CONV_2D with fused ReLU, and MUL, all taken by XNNPACK.

It differs from index unpooling where a window's maximum is not unique: every position
within ``1 / sharpness`` of the maximum receives the value (the whole window when all four
are equal, as in windows of zeros after a ReLU), where index unpooling keeps only the first.
"""

import keras
from keras import ops


def upsample_nearest_2x(x):
    """``(B, H, W, C)`` -> ``(B, 2H, 2W, C)``, each pixel repeated in a 2x2 block, written with
    concatenations and reshapes (TFLite's TILE, from ``ops.repeat``, is not delegated).

    Example:
        >>> x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
        >>> y = keras_segen.layers.upsample_nearest_2x(x)
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].astype(int).tolist()
        [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    shape = ops.shape(x)
    height, width, channels = shape[1], shape[2], x.shape[3]
    x = ops.expand_dims(x, 3)
    x = ops.reshape(ops.concatenate([x, x], axis=3), (-1, height, 2 * width, channels))
    x = ops.expand_dims(x, 2)
    return ops.reshape(ops.concatenate([x, x], axis=2), (-1, 2 * height, 2 * width, channels))


def _check_even(layer, shape):
    odd = [size for size in shape[1:3] if size is not None and size % 2]
    if odd:
        raise ValueError(
            f"{layer} needs an even height and width; got {tuple(shape[1:])}. Use "
            "MaxPoolingWithArgmax2D / MaxUnpooling2D (unpooling='indices') for odd sizes."
        )


@keras.saving.register_keras_serializable(package="keras_segen")
class MaxPoolingWithMask2D(keras.layers.Layer):
    """2x2/stride-2 max pooling returning ``(pooled, mask)``; ``mask`` (the input's shape) is
    1 where a pixel holds its window's maximum, 0 where it is ``1 / sharpness`` or more below.

    The mask is ``relu(1 - sharpness * (max - x))``, computed as one 1x1 depthwise
    convolution with a fused ReLU, the form XNNPACK runs in int8 (as MUL and SUB the int8
    SUB is left to TFLite's kernels). In int8 the difference is 0 exactly at the maximum and
    at least one quantization step elsewhere, so the mask is exactly 0 or 1 while
    ``sharpness`` times the step is at least 1 (steps of 0.001 or more at the default 1000).

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, mask = keras_segen.layers.MaxPoolingWithMask2D()(x)
        >>> float(pooled[0, 0, 0, 0]), keras.ops.convert_to_numpy(mask)[0, :, :, 0].tolist()
        (4.0, [[0.0, 0.0], [1.0, 0.0]])
    """

    def __init__(self, sharpness=1000.0, **kwargs):
        super().__init__(**kwargs)
        if not sharpness > 0:
            raise ValueError(f"sharpness must be positive; got {sharpness!r}.")
        self.sharpness = float(sharpness)

    def build(self, input_shape):
        _check_even(self.name, input_shape)

    def call(self, x):
        pooled = ops.max_pool(x, 2, 2)
        below = upsample_nearest_2x(pooled) - x
        kernel = ops.full((1, 1, x.shape[-1], 1), -self.sharpness, dtype=x.dtype)
        mask = ops.relu(ops.depthwise_conv(below, kernel, 1, "valid") + 1.0)
        # Positions are not learned (as indices are not): without this, gradients reach the
        # tied and near-maximum pixels multiplied by the sharpness.
        return pooled, ops.stop_gradient(mask)

    def compute_output_shape(self, input_shape):
        def half(size):
            return None if size is None else size // 2

        pooled = (input_shape[0], half(input_shape[1]), half(input_shape[2]), input_shape[3])
        return pooled, tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "sharpness": self.sharpness}


@keras.saving.register_keras_serializable(package="keras_segen")
class MaskUnpooling2D(keras.layers.Layer):
    """Inverse of ``MaxPoolingWithMask2D``: ``[x, mask]`` -> ``(B, 2H, 2W, C)``, each value
    repeated over its 2x2 window and kept where the mask is 1.

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, mask = keras_segen.layers.MaxPoolingWithMask2D()(x)
        >>> y = keras_segen.layers.MaskUnpooling2D()([pooled * 10, mask])
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
        [[0.0, 0.0], [40.0, 0.0]]
    """

    def call(self, inputs):
        x, mask = inputs
        return upsample_nearest_2x(x) * mask

    def compute_output_shape(self, input_shape):
        x_shape, mask_shape = input_shape
        doubled = tuple(None if s is None else 2 * s for s in x_shape[1:3])
        if len(mask_shape) != 4 or any(
            a is not None and b is not None and a != b for a, b in zip(doubled, mask_shape[1:3])
        ):
            raise ValueError(
                "MaskUnpooling2D needs a mask of twice the values' height and width; got "
                f"values {tuple(x_shape)} and mask {tuple(mask_shape)}."
            )
        return (x_shape[0], *doubled, x_shape[3])
