"""DeepLabV3+ (Chen, Zhu, Papandreou, Schroff & Adam, ECCV 2018)."""

import keras
from keras import layers

from keras_segen.layers import (
    ResizeLike,
    atrous_spatial_pyramid_pooling,
    conv_bn_act,
    separable_conv_bn_act,
)
from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import encode
from keras_segen.models.segmentation.head import check_common, output_activation
from keras_segen.models.validation import check_choice, check_int

OUTPUT_STRIDES = (8, 16)
# The layers the authors' code (tensorflow/models research/deeplab/core/
# feature_extractor.py) feeds to the decoder (stride 4) and to ASPP: MobileNetV2's
# 'layer_4/depthwise_output' and 'layer_18', ResNet-50's 'block1/unit_2/bottleneck_v1/conv3'
# (before the residual addition) and the last block. Other backbones use P2 and P5.
AUTHORS_TAPS = {
    "mobilenetv2": {"P2": "block_2_depthwise_relu", "P5": "block_16_project_BN"},
    "resnet50": {"P2": "conv2_block2_3_bn", "P5": "conv5_block3_out"},
}
# Width multiples of the four strided stages of the light backbone (strides 4, 8, 16, 32).
LIGHT_STAGES = (2, 4, 8, 16)


def _light_encoder(x, filters, output_stride):
    """Small Xception-style encoder; returns (stride-4 features, deepest features).

    Each stage is a strided 1x1 shortcut plus two separable convolutions, the first
    strided. Stages past ``output_stride`` keep stride 1 and use dilation instead.
    """
    x = conv_bn_act(x, filters, strides=2, name="stem")
    stride, rate, low_level = 2, 1, None
    for stage, multiple in enumerate(LIGHT_STAGES, start=1):
        width = filters * multiple
        step = 2 if stride < output_stride else 1
        if step == 1:
            rate *= 2
        stride *= step
        shortcut = conv_bn_act(
            x, width, kernel_size=1, strides=step, activation=None, name=f"stage{stage}_shortcut"
        )
        y = separable_conv_bn_act(
            x, width, strides=step, dilation_rate=rate, name=f"stage{stage}_sep1"
        )
        y = separable_conv_bn_act(y, width, dilation_rate=rate, name=f"stage{stage}_sep2")
        x = layers.Add(name=f"stage{stage}_add")([shortcut, y])
        if stride == 4 and low_level is None:
            low_level = x
    return low_level, x


def deeplabv3_plus(
    input_shape=(None, None, 3),
    num_classes=21,
    backbone="light",
    output_stride=16,
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    filters=32,
    alpha=1.0,
    aspp_filters=256,
    low_level_filters=48,
    activation=None,
    name="deeplabv3_plus",
):
    """Builds DeepLabV3+.

    Chen et al., "Encoder-Decoder with Atrous Separable Convolution for Semantic Image
    Segmentation", ECCV 2018. The encoder runs a backbone at ``output_stride`` (atrous
    convolution replaces the later strides) and Atrous Spatial Pyramid Pooling: a 1x1
    convolution, atrous separable 3x3 convolutions at rates 6/12/18 (12/24/36 at output
    stride 8) and image-level pooling. The decoder upsamples by 4, concatenates the
    stride-4 low-level features reduced to ``low_level_filters`` channels, refines with
    two separable 3x3 convolutions and upsamples bilinearly to the input size.

    The backbone taps are those of the authors' code (tensorflow/models
    ``research/deeplab/core/feature_extractor.py``): on MobileNetV2 ASPP reads the
    320-channel last inverted-residual block (``layer_18``, Keras ``block_16_project_BN``,
    not the 1280-channel ``out_relu``) and the decoder the 144-channel expanded features of
    the third block (``layer_4/depthwise_output``, ``block_2_depthwise_relu``); on
    ResNet-50 the decoder reads the second unit's last convolution before the residual
    addition (``block1/unit_2/bottleneck_v1/conv3``, ``conv2_block2_3_bn``). The
    ``paper`` preset (MobileNetV2, 21 classes at 512x512) has the reference's 2,764,357 parameters
    (BatchNorm statistics included): 1,843,264 in the backbone and 921,093 in ASPP and the
    decoder. The paper's Xception-65 is not built in.

    Args:
        input_shape: ``(H, W, C)``; fixed H and W must be multiples of ``output_stride``.
            Keras Applications backbones need ``C == 3``.
        num_classes: number of output classes.
        backbone: ``"light"`` (built-in, small, the default) or any encoder of
            ``keras_segen.list_backbones()`` (``"mobilenetv2"``, ``"resnet50"``,
            ``"efficientnetb3"``, ...): ASPP reads its P5 and the decoder its P2, except on
            MobileNetV2 and ResNet-50, which use the authors' taps (``AUTHORS_TAPS``).
        output_stride: 16 (default) or 8.
        weights: ``None``, ``"imagenet"`` (Keras' download and cache) or a local
            include_top=False weights file (see ``keras_segen.encoder``); ``None`` for
            ``"light"``.
        freeze_backbone: train the decoder only (the encoder's BatchNorm in inference mode).
        backbone_kwargs: more arguments of ``keras_segen.encoder``.
        filters: base width of the light backbone.
        alpha: MobileNet width multiplier.
        aspp_filters: width of ASPP and of the decoder (256 in the paper).
        low_level_filters: width of the reduced low-level features (48 in the paper).
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``.

    Example:
        >>> model = keras_segen.deeplabv3_plus(
        ...     (256, 256, 3), num_classes=5, backbone="mobilenetv2", weights=None)
        >>> model.output_shape  # logits at input resolution
        (None, 256, 256, 5)
    """
    builder = "deeplabv3_plus"
    check_backbone(builder, backbone)
    check_choice(builder, "output_stride", output_stride, OUTPUT_STRIDES)
    for argument, value in (
        ("filters", filters),
        ("aspp_filters", aspp_filters),
        ("low_level_filters", low_level_filters),
    ):
        check_int(builder, argument, value)
    if backbone == "light" and weights is not None:
        raise ValueError(f"{builder}: the light backbone has no pretrained weights; got "
                         f"weights={weights!r}.")  # fmt: skip
    input_shape = check_common(builder, input_shape, num_classes, activation, output_stride)

    inputs = keras.Input(input_shape, name="image")
    if backbone == "light" and not freeze_backbone and not backbone_kwargs:
        low_level, features = _light_encoder(inputs, filters, output_stride)
    else:
        options = dict(backbone_kwargs or {})
        if alpha != 1.0:
            options["alpha"] = alpha
        if backbone == "light":
            options.setdefault("filters", filters)
        pyramid = encode(
            inputs, backbone, weights, output_stride, freeze_backbone,
            dict(options, levels=("P2", "P5"), taps=AUTHORS_TAPS.get(backbone)),
        )  # fmt: skip
        low_level, features = pyramid["P2"], pyramid["P5"]

    rates = tuple(rate * 16 // output_stride for rate in (6, 12, 18))
    x = atrous_spatial_pyramid_pooling(features, aspp_filters, rates)
    low_level = conv_bn_act(low_level, low_level_filters, kernel_size=1, name="decoder_low_level")
    x = ResizeLike(name="decoder_upsample")([x, low_level])
    x = layers.Concatenate(name="decoder_concat")([x, low_level])
    x = separable_conv_bn_act(x, aspp_filters, name="decoder_sep1")
    x = separable_conv_bn_act(x, aspp_filters, name="decoder_sep2")
    x = layers.Conv2D(num_classes, 1, name="logits")(x)
    x = ResizeLike(name="upsample_to_input")([x, inputs])
    return keras.Model(inputs, output_activation(x, activation), name=name)


PAPER = (
    "Chen et al., Encoder-Decoder with Atrous Separable Convolution for Semantic Image "
    "Segmentation, ECCV 2018"
)
PRESETS = {
    "deeplabv3_plus": {
        "paper": {
            "description": "the authors' MobileNetV2 configuration (tensorflow/models "
            "research/deeplab): ASPP 256 at output stride 16 on layer_18, decoder on "
            "layer_4/depthwise_output, 21 VOC classes at 512x512; 2,764,357 parameters "
            "(the paper's Xception-65 is not built in)",
            "config": {
                "input_shape": (512, 512, 3), "num_classes": 21, "backbone": "mobilenetv2",
            },
        },
        "edge": {
            "description": "MobileNetV2 (alpha 0.5), ASPP 128 at 256x256, int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 21, "backbone": "mobilenetv2",
                "alpha": 0.5, "aspp_filters": 128, "low_level_filters": 32,
            },
        },
        "tiny": {
            "description": "light backbone with 4 filters at 32x32, 3 classes (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "filters": 4,
                "aspp_filters": 8, "low_level_filters": 4,
            },
        },
    },
}  # fmt: skip
