"""PSPNet (Zhao, Shi, Qi, Wang & Jia, CVPR 2017), as segmentation_models.pytorch 0.6.0
builds it."""

import keras
from keras import layers

from keras_segen.layers import adaptive_average_pooling
from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import conv_norm_relu, encode, upsample_like
from keras_segen.models.segmentation.head import check_common, output_activation
from keras_segen.models.validation import check_choice, check_int, check_rate


def pspnet(
    input_shape=(None, None, 3),
    num_classes=1,
    backbone="resnet50",
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    encoder_depth=3,
    output_stride=32,
    psp_filters=512,
    batch_norm=True,
    dropout=0.2,
    bins=(1, 2, 3, 6),
    activation=None,
    name="pspnet",
):
    """Builds PSPNet over any encoder of the seam.

    Zhao et al., "Pyramid Scene Parsing Network", CVPR 2017, layer for layer as
    segmentation_models.pytorch 0.6.0 ``PSPNet``. The pyramid pooling module reads the
    encoder level ``P{encoder_depth}`` (C channels; SMP's default depth 3: stride 8) and
    has one branch per bin size in ``bins`` (1, 2, 3, 6 in this order): adaptive average
    pooling to ``s x s``, a 1x1 convolution to ``C // len(bins)`` channels, BatchNorm, ReLU
    (the size-1 branch has no BatchNorm, so its convolution keeps a bias), and a bilinear
    upsampling back; the branches and the input are concatenated (branches first), a 1x1
    convolution (no bias) + BatchNorm + ReLU gives ``psp_filters`` channels, then spatial
    dropout, a 3x3 classifier and a bilinear upsampling to the input size. The encoder
    keeps only its layers up to the level used.

    Decoder and head have SMP's trainable parameter count for the same encoder channels:
    with ``q = C // 4``, ``(C*q + q) + 3*(C*q + 2*q) + (2*C*512 + 1024)`` plus
    ``4609 * num_classes`` (811,397 on ResNet-50 with 5 classes). Differences from SMP:
    bilinear resizing is Keras' half-pixel one, where SMP uses ``align_corners=True``;
    ``output_stride`` (a dilated encoder) and ``bins`` are ours (the paper's network is
    ``output_stride=8, encoder_depth=5``, the ``paper`` preset).

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``, fixed ones must be multiples
            of ``min(output_stride, 2**encoder_depth)``.
        num_classes: number of output channels (SMP's default, 1, is a binary mask).
        backbone: an encoder name from ``keras_segen.list_backbones()``, or a keras-hub
            backbone with ``pyramid_outputs``.
        weights: encoder weights: ``None``, ``"imagenet"`` or a weights file.
        freeze_backbone: make the encoder non-trainable.
        backbone_kwargs: extra encoder arguments (``{"alpha": 0.5}``, ``{"filters": 8}``).
        encoder_depth: the encoder level the pyramid pooling reads (1 to 5; SMP's 3).
        output_stride: 32, or 16 / 8 for a dilated encoder.
        psp_filters: width after the pyramid pooling (SMP ``psp_out_channels``).
        batch_norm: BatchNorm in the pooling branches and the projection (SMP
            ``decoder_use_norm``); without it the convolutions have biases.
        dropout: spatial dropout rate before the classifier (SMP ``psp_dropout``).
        bins: the pooling grid sizes, in concatenation order.
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``; its encoder is the layer ``"encoder"``.

    Example:
        >>> model = keras_segen.pspnet((48, 48, 3), num_classes=3, backbone="light",
        ...     backbone_kwargs={"filters": 4}, psp_filters=16)
        >>> model.output_shape  # logits at input resolution
        (None, 48, 48, 3)
        >>> model.get_layer("psp_pool6").pool_size  # the 6x6 stride-8 map in 6x6 bins
        (1, 1)
    """
    builder = "pspnet"
    check_backbone(builder, backbone)
    check_choice(builder, "encoder_depth", encoder_depth, (1, 2, 3, 4, 5))
    check_choice(builder, "output_stride", output_stride, (8, 16, 32))
    check_int(builder, "psp_filters", psp_filters)
    dropout = check_rate(builder, "dropout", dropout)
    if not isinstance(bins, (tuple, list)) or not bins:
        raise ValueError(f"{builder}: bins must be a non-empty tuple of sizes; got {bins!r}.")
    for size in bins:
        check_int(builder, "bins", size)
    stride = min(output_stride, 2**encoder_depth)
    input_shape = check_common(builder, input_shape, num_classes, activation, stride=stride)

    inputs = keras.Input(input_shape, name="image")
    level = f"P{encoder_depth}"  # the encoder keeps only the layers this level needs
    options = dict(backbone_kwargs or {}, levels=(level,))
    features = encode(inputs, backbone, weights, output_stride, freeze_backbone, options)[level]
    width = features.shape[-1] // len(bins)
    if width < 1:
        raise ValueError(
            f"{builder}: the encoder level P{encoder_depth} has "
            f"{features.shape[-1]} channels, fewer than the {len(bins)} bins."
        )
    branches = []
    for size in bins:
        x = adaptive_average_pooling(features, size, name=f"psp_pool{size}")
        x = conv_norm_relu(x, width, 1, batch_norm and size != 1, name=f"psp_branch{size}")
        branches.append(upsample_like(x, features, "bilinear", name=f"psp_branch{size}_up"))
    x = layers.Concatenate(name="psp_concat")([*branches, features])
    x = conv_norm_relu(x, psp_filters, 1, batch_norm, name="psp_bottleneck")
    if dropout:
        x = layers.SpatialDropout2D(dropout, name="psp_dropout")(x)
    x = layers.Conv2D(num_classes, 3, padding="same", name="classifier")(x)
    x = upsample_like(x, inputs, "bilinear", name="classifier_upsample")
    return keras.Model(inputs, output_activation(x, activation), name=name)


PAPER = "Zhao, Shi, Qi, Wang & Jia, Pyramid Scene Parsing Network, CVPR 2017"
PRESETS = {
    "pspnet": {
        "paper": {
            "description": "the paper's layout on a dilated ResNet-50 (the paper's "
            "ResNet-101 is not in Keras) at output stride 8, pyramid pooling on the "
            "2048-channel stride-8 features (bins 1/2/3/6 to 512 channels each), 21 VOC "
            "classes at 480x480 (the paper's 473 crop gives the same 60x60 map); SMP's "
            "1x1 projection, dropout 0.2 and 3x3 head; the auxiliary loss is not built",
            "config": {
                "input_shape": (480, 480, 3), "num_classes": 21, "backbone": "resnet50",
                "encoder_depth": 5, "output_stride": 8,
            },
        },
        "edge": {
            "description": "MobileNetV2 (alpha 0.5) to stride 8, 128-channel projection at "
            "288x288 (a 36x36 map: every bin is a fixed AveragePooling2D), int8-friendly",
            "config": {
                "input_shape": (288, 288, 3), "num_classes": 2, "backbone": "mobilenetv2",
                "backbone_kwargs": {"alpha": 0.5}, "psp_filters": 128,
            },
        },
        "tiny": {
            "description": "light encoder with 4 filters, bins 1/2/4 on the 4x4 stride-8 "
            "map, 64-channel projection at 32x32, 3 classes (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "backbone": "light",
                "backbone_kwargs": {"filters": 4}, "psp_filters": 64, "bins": (1, 2, 4),
            },
        },
    },
}  # fmt: skip
