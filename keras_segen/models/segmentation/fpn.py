"""FPN semantic segmentation (Kirillov, Girshick, He & Dollar, CVPR 2019), as
segmentation_models.pytorch 0.6.0 builds it."""

import keras
from keras import layers

from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import encode, upsample_like
from keras_segen.models.segmentation.head import check_common, output_activation
from keras_segen.models.validation import check_choice, check_int, check_rate

MERGES = ("add", "cat")
INTERPOLATIONS = ("nearest", "bilinear")
# PyTorch's GroupNorm epsilon (Keras' default is 1e-3).
EPSILON = 1e-5


def _conv_gn_relu(x, filters, groups, upsample_to, name):
    """SMP's ``Conv3x3GNReLU``: 3x3 conv without bias, GroupNorm, ReLU, then (optionally) a
    bilinear upsampling to the size of ``upsample_to``."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                      kernel_initializer="he_uniform", name=f"{name}_conv")(x)  # fmt: skip
    x = layers.GroupNormalization(groups, epsilon=EPSILON, name=f"{name}_gn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    if upsample_to is not None:
        x = upsample_like(x, upsample_to, "bilinear", name=f"{name}_upsample")
    return x


def fpn(
    input_shape=(None, None, 3),
    num_classes=1,
    backbone="resnet50",
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    pyramid_filters=256,
    segmentation_filters=128,
    merge="add",
    dropout=0.2,
    interpolation="nearest",
    groups=32,
    activation=None,
    name="fpn",
):
    """Builds an FPN semantic segmentation network over any encoder of the seam.

    Kirillov et al., "Panoptic Feature Pyramid Networks", CVPR 2019 (the semantic branch),
    on the feature pyramid of Lin et al., CVPR 2017, layer for layer as
    segmentation_models.pytorch 0.6.0 ``FPN``. The top-down path: a 1x1 convolution (with
    bias) of P5 to ``pyramid_filters`` channels, then for P4, P3, P2 the coarser level
    upsampled 2x (``interpolation``, nearest by default) plus a 1x1 lateral convolution of
    the encoder level. Each pyramid level then goes through 3, 2, 1 and 1 units of 3x3
    convolution (no bias) -> GroupNorm(``groups``) -> ReLU, each but P2's followed by a 2x
    bilinear upsampling, so all four reach stride 4; they are summed (``merge="add"``) or
    concatenated (``"cat"``), then spatial dropout (``Dropout2d``), a 1x1 classifier and a
    4x bilinear upsampling to the input size. P1 is not used.

    Decoder and head have SMP's trainable parameter count for the same encoder channels:
    ``256 * (c2 + c3 + c4 + c5) + 1,624,832`` plus ``129 * num_classes`` (2,608,517 on
    ResNet-50 with 5 classes). Differences from SMP: bilinear resizing is Keras'
    half-pixel one, where SMP uses ``align_corners=True`` (same weights, slightly shifted
    interpolation); GroupNorm's epsilon is PyTorch's 1e-5.

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``, fixed ones must be multiples
            of 32.
        num_classes: number of output channels (SMP's default, 1, is a binary mask).
        backbone: an encoder name from ``keras_segen.list_backbones()``, or a keras-hub
            backbone with ``pyramid_outputs``.
        weights: encoder weights: ``None``, ``"imagenet"`` or a weights file.
        freeze_backbone: make the encoder non-trainable.
        backbone_kwargs: extra encoder arguments (``{"alpha": 0.5}``, ``{"filters": 8}``).
        pyramid_filters: width of the top-down pyramid (SMP ``decoder_pyramid_channels``).
        segmentation_filters: width of the segmentation branches (SMP
            ``decoder_segmentation_channels``).
        merge: ``"add"`` or ``"cat"`` (SMP ``decoder_merge_policy``).
        dropout: spatial dropout rate before the classifier (SMP ``decoder_dropout``).
        interpolation: top-down upsampling, ``"nearest"`` or ``"bilinear"``.
        groups: GroupNorm groups (32 in SMP and the paper); must divide
            ``segmentation_filters``.
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``; its encoder is the layer ``"encoder"``.

    Example:
        >>> model = keras_segen.fpn((64, 64, 3), num_classes=3, backbone="light",
        ...     backbone_kwargs={"filters": 4}, pyramid_filters=16, segmentation_filters=8,
        ...     groups=4)
        >>> model.output_shape  # logits at input resolution
        (None, 64, 64, 3)
    """
    builder = "fpn"
    check_backbone(builder, backbone)
    check_int(builder, "pyramid_filters", pyramid_filters)
    check_int(builder, "segmentation_filters", segmentation_filters)
    check_int(builder, "groups", groups)
    if segmentation_filters % groups:
        raise ValueError(f"{builder}: groups ({groups}) must divide segmentation_filters "
                         f"({segmentation_filters}).")  # fmt: skip
    check_choice(builder, "merge", merge, MERGES)
    check_choice(builder, "interpolation", interpolation, INTERPOLATIONS)
    dropout = check_rate(builder, "dropout", dropout)
    input_shape = check_common(builder, input_shape, num_classes, activation, stride=32)

    inputs = keras.Input(input_shape, name="image")
    options = dict(backbone_kwargs or {}, levels=("P2", "P3", "P4", "P5"))
    features = encode(inputs, backbone, weights, 32, freeze_backbone, options)
    pyramid = {5: layers.Conv2D(pyramid_filters, 1, kernel_initializer="he_uniform",
                                name="decoder_p5")(features["P5"])}  # fmt: skip
    for level in (4, 3, 2):
        skip = features[f"P{level}"]
        up = upsample_like(pyramid[level + 1], skip, interpolation, name=f"decoder_p{level}_up")
        lateral = layers.Conv2D(pyramid_filters, 1, kernel_initializer="he_uniform",
                                name=f"decoder_p{level}_lateral")(skip)  # fmt: skip
        pyramid[level] = layers.Add(name=f"decoder_p{level}")([up, lateral])

    branches = []
    for level in (5, 4, 3, 2):
        x = pyramid[level]
        targets = [pyramid[finer] for finer in range(level - 1, 1, -1)] or [None]
        for unit, target in enumerate(targets, start=1):
            x = _conv_gn_relu(x, segmentation_filters, groups, target,
                              name=f"decoder_seg_p{level}_unit{unit}")  # fmt: skip
        branches.append(x)
    if merge == "add":
        x = layers.Add(name="decoder_merge")(branches)
    else:
        x = layers.Concatenate(name="decoder_merge")(branches)
    if dropout:
        x = layers.SpatialDropout2D(dropout, name="decoder_dropout")(x)
    x = layers.Conv2D(num_classes, 1, name="classifier")(x)
    x = upsample_like(x, inputs, "bilinear", name="classifier_upsample")
    return keras.Model(inputs, output_activation(x, activation), name=name)


PAPER = "Kirillov, Girshick, He & Dollar, Panoptic Feature Pyramid Networks, CVPR 2019"
PRESETS = {
    "fpn": {
        "paper": {
            "description": "the paper's semantic branch on ResNet-50-FPN (256-channel "
            "pyramid, 128-channel branches with GroupNorm(32), sum, 1x1 conv, 4x bilinear) "
            "for 19 Cityscapes classes at 512x1024; no dropout as in the paper (SMP adds "
            "0.2); like SMP, no 3x3 output convs on the merged pyramid levels; "
            "decoder+head 2,610,323 trainable parameters",
            "config": {
                "input_shape": (512, 1024, 3), "num_classes": 19, "backbone": "resnet50",
                "dropout": 0.0,
            },
        },
        "edge": {
            "description": "MobileNetV2 (alpha 0.5), 64-channel pyramid, 32-channel "
            "branches at 256x256, int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 2, "backbone": "mobilenetv2",
                "backbone_kwargs": {"alpha": 0.5}, "pyramid_filters": 64,
                "segmentation_filters": 32, "groups": 8,
            },
        },
        "tiny": {
            "description": "light encoder with 4 filters, 16/8-channel decoder at 32x32, "
            "3 classes (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "backbone": "light",
                "backbone_kwargs": {"filters": 4}, "pyramid_filters": 16,
                "segmentation_filters": 8, "groups": 4,
            },
        },
    },
}  # fmt: skip
