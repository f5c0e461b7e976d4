"""Segmentation builders: FCN, U-Net, SegNet, DeepLabV3+ and ReSeg (each with its PRESETS)."""

from keras_segen.models.segmentation.deeplab import deeplabv3_plus
from keras_segen.models.segmentation.fcn import fcn
from keras_segen.models.segmentation.reseg import reseg
from keras_segen.models.segmentation.segnet import segnet
from keras_segen.models.segmentation.unet import unet, unet_output_size

__all__ = ["deeplabv3_plus", "fcn", "reseg", "segnet", "unet", "unet_output_size"]
