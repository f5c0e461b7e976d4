"""Fully Convolutional Network (Long, Shelhamer & Darrell, CVPR 2015)."""

import warnings

import keras
import numpy as np
from keras import layers

from keras_segen.layers import BilinearUpsampling, ImagenetPreprocessing
from keras_segen.models.encoders import check_backbone
from keras_segen.models.encoders.applications import copy_weights
from keras_segen.models.encoders.own import vgg16_body
from keras_segen.models.segmentation.encoded import encode
from keras_segen.models.segmentation.head import check_common, output_activation
from keras_segen.models.validation import check_choice, check_int, check_weights

VARIANTS = ("8s", "16s", "32s")


def _upsample(x, num_classes, factor, name, trainable=True):
    """Upsampling by ``factor``: a transposed convolution initialised to bilinear."""
    return layers.Conv2DTranspose(
        num_classes,
        2 * factor,
        strides=factor,
        padding="same",
        use_bias=False,
        kernel_initializer=BilinearUpsampling(),
        trainable=trainable,
        name=name,
    )(x)


def _score(x, num_classes, name):
    """1x1 class-score layer, zero-initialised as in the paper."""
    return layers.Conv2D(num_classes, 1, kernel_initializer="zeros", name=name)(x)


def transplant_fully_connected(vgg, model):
    """Copies VGG16's ``fc1``/``fc2`` into FCN's ``fc6``/``fc7`` as 7x7 and 1x1 convolutions.

    The "net surgery" of the paper (Sec. 3.1) and its reference code: a dense layer on the
    flattened 7x7 ``pool5`` map is the 7x7 convolution with the same weights, reshaped
    (Keras flattens rows, then columns, then channels, which is the kernel's order).
    """
    for dense_name, conv_name in (("fc1", "fc6"), ("fc2", "fc7")):
        kernel, bias = vgg.get_layer(dense_name).get_weights()
        conv = model.get_layer(conv_name)
        shape = tuple(conv.kernel.shape)
        if kernel.size != int(np.prod(shape)):
            raise ValueError(
                f"Cannot transplant {dense_name} {kernel.shape} into {conv_name} {shape}: "
                "FCN needs VGG16's widths (filters=64, fc_units=4096)."
            )
        conv.set_weights([kernel.reshape(shape), bias])


def _load_vgg16(model, weights, filters, fc_units):
    """Loads ``weights`` into the conv body and, if the file has them, into fc6/fc7."""
    reason = f"fc_units={fc_units} differs from VGG16's 4096"
    if (filters, fc_units) == (64, 4096):
        try:
            with warnings.catch_warnings():  # Keras warns about the groups it cannot find
                warnings.simplefilter("ignore")
                vgg = keras.applications.VGG16(include_top=True, weights=weights)
        except ValueError:
            reason = f"{weights} holds no fully connected layers (an include_top=False file)"
        else:
            copy_weights(vgg, model, missing_ok=True)
            transplant_fully_connected(vgg, model)
            return
    # Raises for widths other than VGG16's before anything is said about fc6/fc7.
    copy_weights(keras.applications.VGG16(include_top=False, weights=weights), model)
    warnings.warn(
        f"fcn: only the VGG16 conv body is pretrained; fc6 and fc7 start from random "
        f"weights because {reason}.",
        stacklevel=3,
    )


def fcn(
    input_shape=(None, None, 3),
    num_classes=21,
    variant="8s",
    backbone="vgg16",
    filters=64,
    fc_units=4096,
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    alpha=1.0,
    activation=None,
    name=None,
):
    """Builds FCN-32s, FCN-16s or FCN-8s.

    Long et al., "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015. The
    VGG16 conv body is followed by fc6 and fc7 recast as 7x7 and 1x1 convolutions (with
    dropout 0.5) and a 1x1 class scorer at stride 32. FCN-16s adds a learned 2x upsampling
    fused with the scores of pool4; FCN-8s fuses again with pool3. The 2x upsamplings start
    as bilinear interpolation and are learned; the final one, which restores the input
    resolution, stays fixed bilinear, as in the paper. With VGG16 ``weights`` the
    classifier's fully connected layers become fc6 and fc7 (``transplant_fully_connected``)
    when the weights file has them (``"imagenet"`` or an include_top=True file).
    Convolutions are "same"-padded instead of the paper's 100-pixel padding and crops, so
    fixed input sizes must be multiples of 32; the layers and parameter counts are those
    of the reference Caffe models (``voc-fcn8s``, ``voc-fcn16s``, ``voc-fcn32s``).

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``.
        num_classes: number of output classes.
        variant: ``"8s"``, ``"16s"`` or ``"32s"``.
        backbone: ``"vgg16"`` (the paper: its pools 3-5, fc6 and fc7), or any encoder of
            ``keras_segen.list_backbones()`` (``"mobilenetv2"`` for small devices,
            ``"resnet50"``, ``"efficientnetb0"``, ...): its P3, P4 and P5 take the places of
            pool3, pool4 and fc7.
        filters: VGG16 base width (64 in the paper; smaller for tiny models).
        fc_units: width of fc6/fc7 (4096 in the paper).
        weights: ``None``, ``"imagenet"`` (needs internet) or the path of a local weights
            file of the backbone in Keras Applications format: VGG16 with its top (fc6/fc7
            transplanted) or without it (fc6/fc7 random, with a warning).
        freeze_backbone: train all but the encoder (not for ``"vgg16"``, which is built in).
        backbone_kwargs: more arguments of ``keras_segen.encoder``.
        alpha: MobileNet width multiplier.
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name (default ``f"fcn{variant}"``).

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``.

    Example:
        >>> model = keras_segen.fcn((224, 224, 3), num_classes=21, variant="8s")
        >>> model.output_shape  # logits at input resolution
        (None, 224, 224, 21)
    """
    builder = "fcn"
    check_choice(builder, "variant", variant, VARIANTS)
    check_backbone(builder, backbone)
    check_int(builder, "filters", filters)
    check_int(builder, "fc_units", fc_units)
    weights = check_weights(builder, weights)
    channels = 3 if backbone == "vgg16" and weights else None
    input_shape = check_common(builder, input_shape, num_classes, activation, 32, channels)

    inputs = keras.Input(input_shape, name="image")
    if backbone == "vgg16":
        x = ImagenetPreprocessing("caffe" if weights else "tf", name="preprocessing")(inputs)
        _, _, pool3, pool4, pool5 = vgg16_body(x, filters)
        x = layers.Conv2D(fc_units, 7, padding="same", activation="relu", name="fc6")(pool5)
        x = layers.Dropout(0.5, name="fc6_dropout")(x)
        x = layers.Conv2D(fc_units, 1, activation="relu", name="fc7")(x)
        top = layers.Dropout(0.5, name="fc7_dropout")(x)
    else:
        options = dict(backbone_kwargs or {}, levels=("P3", "P4", "P5"))
        if alpha != 1.0:
            options["alpha"] = alpha
        pyramid = encode(inputs, backbone, weights, 32, freeze_backbone, options)
        pool3, pool4, top = pyramid["P3"], pyramid["P4"], pyramid["P5"]

    scores = _score(top, num_classes, "score_fr")
    if variant == "32s":
        logits = _upsample(scores, num_classes, 32, "upscore32", False)
    else:
        scores = _upsample(scores, num_classes, 2, "upscore2")
        scores = layers.Add(name="fuse_pool4")([scores, _score(pool4, num_classes, "score_pool4")])
        if variant == "16s":
            logits = _upsample(scores, num_classes, 16, "upscore16", False)
        else:
            scores = _upsample(scores, num_classes, 2, "upscore_pool4")
            pool3_scores = _score(pool3, num_classes, "score_pool3")
            scores = layers.Add(name="fuse_pool3")([scores, pool3_scores])
            logits = _upsample(scores, num_classes, 8, "upscore8", False)
    model = keras.Model(inputs, output_activation(logits, activation), name=name or f"fcn{variant}")
    if backbone == "vgg16" and weights:
        _load_vgg16(model, weights, filters, fc_units)
    return model


PAPER = (
    "Long, Shelhamer & Darrell, Fully Convolutional Networks for Semantic Segmentation, CVPR 2015"
)
PRESETS = {
    "fcn": {
        "paper": {
            "description": "FCN-8s on VGG16 with 4096-wide fc6/fc7, 21 PASCAL VOC classes "
            "(voc-fcn8s): 134,489,759 parameters",
            "config": {"input_shape": (512, 512, 3), "num_classes": 21, "variant": "8s"},
        },
        "paper_16s": {
            "description": "FCN-16s on VGG16, 21 PASCAL VOC classes (voc-fcn16s): "
            "134,815,994 parameters",
            "config": {"input_shape": (512, 512, 3), "num_classes": 21, "variant": "16s"},
        },
        "paper_32s": {
            "description": "FCN-32s on VGG16, 21 PASCAL VOC classes (voc-fcn32s): "
            "136,152,917 parameters",
            "config": {"input_shape": (512, 512, 3), "num_classes": 21, "variant": "32s"},
        },
        "edge": {
            "description": "FCN-8s on MobileNetV2 (alpha 0.5) at 256x256, int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 21, "variant": "8s",
                "backbone": "mobilenetv2", "alpha": 0.5,
            },
        },
        "tiny": {
            "description": "4-filter VGG16 layout at 32x32, 3 classes (tests)",
            "config": {"input_shape": (32, 32, 3), "num_classes": 3, "filters": 4, "fc_units": 8},
        },
    },
}  # fmt: skip
