"""Segmentation builders: FCN, U-Net, SegNet, DeepLabV3+ and ReSeg, registered by name."""

from keras_segen.models.segmentation.deeplab import deeplabv3_plus
from keras_segen.models.segmentation.fcn import fcn
from keras_segen.models.segmentation.reseg import reseg
from keras_segen.models.segmentation.segnet import segnet
from keras_segen.models.segmentation.unet import unet, unet_output_size
from keras_segen.registry import register_model

PAPERS = {
    fcn: "Long, Shelhamer & Darrell, Fully Convolutional Networks for Semantic "
    "Segmentation, CVPR 2015",
    unet: "Ronneberger, Fischer & Brox, U-Net: Convolutional Networks for Biomedical "
    "Image Segmentation, MICCAI 2015",
    segnet: "Badrinarayanan, Kendall & Cipolla, SegNet: A Deep Convolutional "
    "Encoder-Decoder Architecture for Image Segmentation, TPAMI 2017",
    deeplabv3_plus: "Chen et al., Encoder-Decoder with Atrous Separable Convolution for "
    "Semantic Image Segmentation, ECCV 2018",
    reseg: "Visin et al., ReSeg: A Recurrent Neural Network-based Model for Semantic "
    "Segmentation, CVPR Workshops 2016",
}
for _builder, _paper in PAPERS.items():
    register_model("segmentation", paper=_paper)(_builder)

__all__ = ["deeplabv3_plus", "fcn", "reseg", "segnet", "unet", "unet_output_size"]
