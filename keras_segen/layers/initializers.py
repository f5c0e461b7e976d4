"""Kernel initialisers."""

import keras
import numpy as np


def bilinear_kernel(size):
    """2-D bilinear interpolation filter of ``size x size`` (as in FCN's ``upsample_filt``).

    Example:
        >>> kernel = keras_segen.layers.bilinear_kernel(4)  # the weights of 2x upsampling
        >>> kernel[0].tolist(), float(kernel.sum())
        ([0.0625, 0.1875, 0.1875, 0.0625], 4.0)
    """
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    taps = 1.0 - np.abs(np.arange(size) - center) / factor
    return np.outer(taps, taps)


@keras.saving.register_keras_serializable(package="keras_segen")
class BilinearUpsampling(keras.initializers.Initializer):
    """Initialises a ``Conv2DTranspose`` kernel to per-channel bilinear upsampling.

    FCN (Long et al. 2015) starts its learned 2x upsampling layers from bilinear
    interpolation: channel ``i`` maps to channel ``i`` only. The kernel size should be
    ``2 * stride`` and the layer use ``padding="same"``.

    Example:
        >>> upsample = keras.layers.Conv2DTranspose(
        ...     1, 4, strides=2, padding="same", use_bias=False,
        ...     kernel_initializer=keras_segen.layers.BilinearUpsampling())
        >>> y = keras.ops.convert_to_numpy(upsample(np.ones((1, 4, 4, 1), "float32")))
        >>> y.shape, float(y[0, 3, 3, 0])  # a constant stays constant inside
        ((1, 8, 8, 1), 1.0)
    """

    def __call__(self, shape, dtype=None):
        height, width, out_channels, in_channels = shape
        if height != width:
            raise ValueError(f"BilinearUpsampling needs a square kernel; got {shape}.")
        kernel = np.zeros(shape, dtype="float32")
        for channel in range(min(out_channels, in_channels)):
            kernel[:, :, channel, channel] = bilinear_kernel(height)
        return keras.ops.convert_to_tensor(kernel, dtype=dtype)

    def get_config(self):
        return {}
