"""Reusable Keras layers and functional blocks of keras_segen."""

from keras_segen.layers.adaptive_pooling import (
    DynamicAdaptiveAveragePooling2D,
    adaptive_average_pooling,
)
from keras_segen.layers.blocks import (
    atrous_spatial_pyramid_pooling,
    conv_bn_act,
    separable_conv_bn_act,
)
from keras_segen.layers.crop import CenterCropLike
from keras_segen.layers.fake_quant import FakeQuant, FakeQuantKernel, fake_quantized_kernel
from keras_segen.layers.initializers import BilinearUpsampling, bilinear_kernel
from keras_segen.layers.kernel_call import call_with_kernel
from keras_segen.layers.mask_pooling import (
    MaskUnpooling2D,
    MaxPoolingWithMask2D,
    upsample_nearest_2x,
)
from keras_segen.layers.patches import PatchesToChannels
from keras_segen.layers.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D
from keras_segen.layers.preprocessing import ImagenetPreprocessing
from keras_segen.layers.renet import ReNetSweep
from keras_segen.layers.resize import ResizeLike, Upscale2D, resize_images
from keras_segen.layers.spade import (
    SPADE,
    AveragePoolingExcludingPadding2D,
    NearestResize,
    nearest_resize_like_torch,
    xavier_normal,
)
from keras_segen.layers.spectral import SpectralNorm, spectral_norm

__all__ = [
    "AveragePoolingExcludingPadding2D",
    "DynamicAdaptiveAveragePooling2D",
    "adaptive_average_pooling",
    "BilinearUpsampling",
    "CenterCropLike",
    "FakeQuant",
    "FakeQuantKernel",
    "ImagenetPreprocessing",
    "MaskUnpooling2D",
    "MaxPoolingWithArgmax2D",
    "MaxPoolingWithMask2D",
    "MaxUnpooling2D",
    "NearestResize",
    "PatchesToChannels",
    "ReNetSweep",
    "SPADE",
    "ResizeLike",
    "SpectralNorm",
    "Upscale2D",
    "atrous_spatial_pyramid_pooling",
    "bilinear_kernel",
    "call_with_kernel",
    "conv_bn_act",
    "fake_quantized_kernel",
    "nearest_resize_like_torch",
    "resize_images",
    "separable_conv_bn_act",
    "spectral_norm",
    "upsample_nearest_2x",
    "xavier_normal",
]
