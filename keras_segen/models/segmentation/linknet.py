"""LinkNet (Chaurasia & Culurciello, VCIP 2017), as segmentation_models.pytorch 0.6.0
builds it."""

import math

import keras
from keras import layers

from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import conv_norm_relu, encode, norm_relu
from keras_segen.models.segmentation.head import check_common, classifier
from keras_segen.models.validation import check_int


def _decoder_block(x, skip, filters, batch_norm, name):
    """SMP's ``DecoderBlock``: 1x1 conv to a quarter of the width, 4x4 stride-2 transposed
    conv (with bias, PyTorch's default initialisation) + norm + ReLU, 1x1 conv to
    ``filters``, then ``+ skip``."""
    quarter = x.shape[-1] // 4
    if quarter < 1:
        raise ValueError(f"linknet: {name} gets {x.shape[-1]} channels; it needs 4 or more "
                         "(the encoder is too narrow).")  # fmt: skip
    x = conv_norm_relu(x, quarter, 1, batch_norm, name=f"{name}_conv1")
    bound = 1 / math.sqrt(16 * quarter)  # kaiming_uniform(a=sqrt(5)): U(+-1/sqrt(fan_in))
    x = layers.Conv2DTranspose(
        quarter, 4, strides=2, padding="same",
        kernel_initializer=keras.initializers.RandomUniform(-bound, bound),
        bias_initializer=keras.initializers.RandomUniform(-bound, bound),
        name=f"{name}_full_conv",
    )(x)  # fmt: skip
    x = norm_relu(x, batch_norm, name=f"{name}_full_conv")
    x = conv_norm_relu(x, filters, 1, batch_norm, name=f"{name}_conv2")
    if skip is not None:
        x = layers.Add(name=f"{name}_add")([x, skip])
    return x


def linknet(
    input_shape=(None, None, 3),
    num_classes=1,
    backbone="resnet50",
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    batch_norm=True,
    prefinal_filters=32,
    activation=None,
    name="linknet",
):
    """Builds LinkNet over any encoder of the seam.

    Chaurasia & Culurciello, "LinkNet: Exploiting Encoder Representations for Efficient
    Semantic Segmentation", VCIP 2017, layer for layer as segmentation_models.pytorch 0.6.0
    ``Linknet``. Five decoder blocks go from P5 to full resolution; block ``i`` takes
    ``m`` channels to a quarter (1x1 conv, BatchNorm, ReLU), doubles the size with a 4x4
    stride-2 transposed convolution (with bias) + BatchNorm + ReLU, goes to the width of
    the next encoder level (1x1 conv, BatchNorm, ReLU) and adds that level (P4, P3, P2,
    P1); the fifth block ends at ``prefinal_filters`` channels at full resolution, where a
    1x1 classifier gives the scores. Encoders without P1 (ConvNeXt's stride-4 stem) skip
    that addition and keep P2's width, as SMP does for a 0-channel level.

    Decoder and head have SMP's trainable parameter count for the same encoder channels:
    per block ``a -> o`` with ``q = a // 4``, ``a*q + 2q + 16*q*q + 3q + q*o + 2o``, plus
    ``33 * num_classes`` (7,669,877 on ResNet-50 with 5 classes). The paper's blocks use
    3x3 transposed convolutions and a 3x3 conv + 2x2 transposed-conv classifier; SMP's
    (and this) layout has 4x4 ones, a fifth block and a 1x1 classifier.

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``, fixed ones must be multiples
            of 32.
        num_classes: number of output channels (SMP's default, 1, is a binary mask).
        backbone: an encoder name from ``keras_segen.list_backbones()``, or a keras-hub
            backbone with ``pyramid_outputs``.
        weights: encoder weights: ``None``, ``"imagenet"`` or a weights file.
        freeze_backbone: make the encoder non-trainable.
        backbone_kwargs: extra encoder arguments (``{"alpha": 0.5}``, ``{"filters": 8}``).
        batch_norm: BatchNorm after every decoder convolution (SMP ``decoder_use_norm``);
            without it the 1x1 convolutions have biases.
        prefinal_filters: width of the last block's output (32 in SMP).
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``; its encoder is the layer ``"encoder"``.

    Example:
        >>> model = keras_segen.linknet((64, 64, 3), num_classes=3, backbone="light",
        ...     backbone_kwargs={"filters": 4}, prefinal_filters=8)
        >>> model.output_shape  # logits at input resolution
        (None, 64, 64, 3)
    """
    builder = "linknet"
    check_backbone(builder, backbone)
    check_int(builder, "prefinal_filters", prefinal_filters)
    input_shape = check_common(builder, input_shape, num_classes, activation, stride=32)

    inputs = keras.Input(input_shape, name="image")
    features = encode(inputs, backbone, weights, 32, freeze_backbone, backbone_kwargs)
    x = features["P5"]
    for block, level in enumerate((4, 3, 2, 1), start=1):
        skip = features.get(f"P{level}")
        filters = x.shape[-1] if skip is None else skip.shape[-1]
        x = _decoder_block(x, skip, filters, batch_norm, name=f"decoder_block{block}")
    x = _decoder_block(x, None, prefinal_filters, batch_norm, name="decoder_block5")
    return keras.Model(inputs, classifier(x, num_classes, activation), name=name)


PAPER = (
    "Chaurasia & Culurciello, LinkNet: Exploiting Encoder Representations for Efficient "
    "Semantic Segmentation, VCIP 2017"
)
PRESETS = {
    "linknet": {
        "paper": {
            "description": "SMP's LinkNet on ResNet-50 (the paper's ResNet-18 is not in "
            "Keras) for 19 Cityscapes classes at 512x1024 (the paper's resolution); SMP's "
            "4x4 transposed convolutions, fifth block and 1x1 classifier",
            "config": {
                "input_shape": (512, 1024, 3), "num_classes": 19, "backbone": "resnet50",
            },
        },
        "edge": {
            "description": "MobileNetV2 (alpha 0.5) at 256x256, 16-channel last block, "
            "int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 2, "backbone": "mobilenetv2",
                "backbone_kwargs": {"alpha": 0.5}, "prefinal_filters": 16,
            },
        },
        "tiny": {
            "description": "light encoder with 16 filters (with 4, the last block's "
            "quarter-width bottleneck is 1 channel), 8-channel last block at 32x32, 3 "
            "classes (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "backbone": "light",
                "backbone_kwargs": {"filters": 16}, "prefinal_filters": 8,
            },
        },
    },
}  # fmt: skip
