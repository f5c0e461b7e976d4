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


def _pad_to_even(x):
    """Repeats the last row / column of a static odd height / width (Caffe's ceil mode).

    A repeated value never wins over the one it copies (the first position holding the
    maximum is recorded), so indices always point at real pixels.
    """
    if x.shape[1] is not None and x.shape[1] % 2:
        x = ops.concatenate([x, x[:, -1:]], axis=1)
    if x.shape[2] is not None and x.shape[2] % 2:
        x = ops.concatenate([x, x[:, :, -1:]], axis=2)
    return x


@keras.saving.register_keras_serializable(package="keras_segen")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2/stride-2 max pooling returning ``(pooled, indices)``.

    An odd fixed height or width pools its last row or column alone (``ceil(H / 2)``
    outputs, as Caffe's pooling in SegNet: 45 -> 23); sizes unknown until run time must
    be even.

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, indices = keras_segen.layers.MaxPoolingWithArgmax2D()(x)
        >>> float(pooled[0, 0, 0, 0]), int(indices[0, 0, 0, 0])  # position 2: bottom left
        (4.0, 2)
    """

    def call(self, x):
        x = _pad_to_even(x)
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
        def half(size):
            return None if size is None else (size + 1) // 2

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
    positions of the window are zero. ``output_size=(H, W)`` crops the result to the
    size before an odd-sized pooling (SegNet's ``upsample_h`` / ``upsample_w``: 23 -> 45).

    Example:
        >>> x = np.array([[1.0, 2.0], [4.0, 3.0]], "float32").reshape(1, 2, 2, 1)
        >>> pooled, indices = keras_segen.layers.MaxPoolingWithArgmax2D()(x)
        >>> y = keras_segen.layers.MaxUnpooling2D()([pooled, indices])
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
        [[0.0, 0.0], [4.0, 0.0]]
    """

    def __init__(self, output_size=None, **kwargs):
        super().__init__(**kwargs)
        if output_size is not None:
            output_size = tuple(output_size)
            if len(output_size) != 2 or not all(isinstance(s, int) and s > 0 for s in output_size):
                raise ValueError(f"output_size must be (height, width); got {output_size!r}.")
        self.output_size = output_size

    def call(self, inputs):
        x, indices = inputs
        upsampled = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)
        upsampled_indices = ops.repeat(ops.repeat(indices, 2, axis=1), 2, axis=2)
        shape = ops.shape(upsampled)
        positions = _window_positions(shape[1], shape[2])[None, :, :, None]
        unpooled = ops.where(ops.equal(upsampled_indices, positions), upsampled, 0.0)
        if self.output_size is not None:
            unpooled = unpooled[:, : self.output_size[0], : self.output_size[1]]
        return unpooled

    def compute_output_shape(self, input_shape):
        x_shape, indices_shape = input_shape
        if tuple(x_shape) != tuple(indices_shape):
            raise ValueError(
                "MaxUnpooling2D needs values and indices of the same shape; "
                f"got {tuple(x_shape)} and {tuple(indices_shape)}."
            )

        def double(size):
            return None if size is None else size * 2

        if self.output_size is not None:
            for axis, size in zip((1, 2), self.output_size):
                if x_shape[axis] is not None and (size + 1) // 2 != x_shape[axis]:
                    raise ValueError(
                        f"MaxUnpooling2D output_size {self.output_size} does not invert a "
                        f"pooling that gave input shape {tuple(x_shape)}."
                    )
            return (x_shape[0], *self.output_size, x_shape[3])
        return (x_shape[0], double(x_shape[1]), double(x_shape[2]), x_shape[3])

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size}
