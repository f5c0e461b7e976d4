"""Segmentation builders: FCN, U-Net, SegNet, DeepLabV3+ and ReSeg, and FPN, PSPNet, LinkNet
and U-Net++ over the encoder seam (each with its PRESETS)."""

from keras_segen.models.segmentation.deeplab import deeplabv3_plus
from keras_segen.models.segmentation.fcn import fcn
from keras_segen.models.segmentation.fpn import fpn
from keras_segen.models.segmentation.linknet import linknet
from keras_segen.models.segmentation.pspnet import pspnet
from keras_segen.models.segmentation.reseg import reseg
from keras_segen.models.segmentation.segnet import segnet
from keras_segen.models.segmentation.unet import unet, unet_output_size
from keras_segen.models.segmentation.unet_plus_plus import unet_plus_plus

__all__ = [
    "deeplabv3_plus",
    "fcn",
    "fpn",
    "linknet",
    "pspnet",
    "reseg",
    "segnet",
    "unet",
    "unet_output_size",
    "unet_plus_plus",
]
