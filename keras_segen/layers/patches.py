"""Non-overlapping patch flattening (space-to-depth) from strided slices."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_segen")
class PatchesToChannels(keras.layers.Layer):
    """``(B, H, W, C)`` -> ``(B, H/p, W/p, p*p*C)``: each ``p x p`` patch becomes one vector.

    ReNet (Visin et al. 2015) reads the image as a grid of non-overlapping patches. Built
    from strided slices so it exports to the built-in TFLite op set.

    Example:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> y = keras.ops.convert_to_numpy(keras_segen.layers.PatchesToChannels(2)(x))
        >>> y.shape, y[0, 0, 0].tolist()  # the top-left 2x2 patch
        ((1, 2, 2, 4), [0.0, 1.0, 4.0, 5.0])
    """

    def __init__(self, patch_size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(patch_size, int) or patch_size < 1:
            raise ValueError(f"patch_size must be a positive integer; got {patch_size!r}.")
        self.patch_size = patch_size

    def call(self, x):
        p = self.patch_size
        return ops.concatenate(
            [x[:, row::p, col::p, :] for row in range(p) for col in range(p)], axis=-1
        )

    def compute_output_shape(self, input_shape):
        p = self.patch_size
        for axis in (1, 2):
            if input_shape[axis] is not None and input_shape[axis] % p:
                raise ValueError(
                    f"PatchesToChannels({p}) needs height and width divisible by {p}; "
                    f"got input shape {tuple(input_shape)}."
                )

        def shrink(size):
            return None if size is None else size // p

        channels = None if input_shape[3] is None else input_shape[3] * p * p
        return (input_shape[0], shrink(input_shape[1]), shrink(input_shape[2]), channels)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}
