"""Max pooling that remembers where the maxima were, and the matching max-unpooling.

SegNet (Badrinarayanan et al. 2017) stores, for every 2x2 pooling window, which of its four
positions held the maximum (2 bits per window) and puts each decoder value back at exactly
that position. Here the position is an int32 in ``[0, 4)``: ``2 * row + column`` inside the
window. Both layers use only strided slices, element-wise ops and ``repeat``, so they export to
the built-in TFLite op set (unlike ``tf.nn.max_pool_with_argmax``).
"""

import keras
from keras import ops


def _window_positions(height, width):
    """``(H, W)`` int32 map of each pixel's position ``2 * (row % 2) + col % 2`` in its window."""
    rows = ops.expand_dims(ops.arange(height, dtype="int32") % 2, 1)
    cols = ops.expand_dims(ops.arange(width, dtype="int32") % 2, 0)
    return rows * 2 + cols


@keras.saving.register_keras_serializable(package="keras_segen")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2/stride-2 max pooling returning ``(pooled, indices)``; H and W must be even.

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, indices = keras_segen.layers.MaxPoolingWithArgmax2D()(x)
        >>> float(pooled[0, 0, 0, 0]), int(indices[0, 0, 0, 0])  # position 2: bottom left
        (4.0, 2)
    """

    def call(self, x):
        windows = [x[:, 0::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2]]
        pooled = ops.maximum(
            ops.maximum(windows[0], windows[1]), ops.maximum(windows[2], windows[3])
        )
        # First position holding the maximum. Written with comparisons because
        # keras.ops.argmax lowers to a TensorFlow bitwise op that TFLite lacks.
        indices = ops.full(ops.shape(pooled), 3, dtype="int32")
        for position in (2, 1, 0):
            indices = ops.where(ops.equal(windows[position], pooled), position, indices)
        return pooled, indices

    def compute_output_shape(self, input_shape):
        for axis in (1, 2):
            if input_shape[axis] is not None and input_shape[axis] % 2:
                raise ValueError(
                    "MaxPoolingWithArgmax2D needs even height and width; "
                    f"got input shape {tuple(input_shape)}."
                )

        def half(size):
            return None if size is None else size // 2

        shape = (input_shape[0], half(input_shape[1]), half(input_shape[2]), input_shape[3])
        return shape, shape

    def compute_output_spec(self, x):
        pooled_shape, indices_shape = self.compute_output_shape(x.shape)
        return (
            keras.KerasTensor(pooled_shape, dtype=x.dtype),
            keras.KerasTensor(indices_shape, dtype="int32"),
        )


@keras.saving.register_keras_serializable(package="keras_segen")
class MaxUnpooling2D(keras.layers.Layer):
    """Inverse of ``MaxPoolingWithArgmax2D``: ``[x, indices]`` -> ``(B, 2H, 2W, C)``.

    Each value goes to the window position recorded by the encoder; the other three
    positions of the window are zero.

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, indices = keras_segen.layers.MaxPoolingWithArgmax2D()(x)
        >>> y = keras_segen.layers.MaxUnpooling2D()([pooled, indices])
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
        [[0.0, 0.0], [4.0, 0.0]]
    """

    def call(self, inputs):
        x, indices = inputs
        upsampled = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)
        upsampled_indices = ops.repeat(ops.repeat(indices, 2, axis=1), 2, axis=2)
        shape = ops.shape(upsampled)
        positions = _window_positions(shape[1], shape[2])[None, :, :, None]
        return ops.where(ops.equal(upsampled_indices, positions), upsampled, 0.0)

    def compute_output_shape(self, input_shape):
        x_shape, indices_shape = input_shape
        if tuple(x_shape) != tuple(indices_shape):
            raise ValueError(
                "MaxUnpooling2D needs values and indices of the same shape; "
                f"got {tuple(x_shape)} and {tuple(indices_shape)}."
            )

        def double(size):
            return None if size is None else size * 2

        return (x_shape[0], double(x_shape[1]), double(x_shape[2]), x_shape[3])
