"""U-Net++ (Zhou, Rahman Siddiquee, Tajbakhsh & Liang, DLMIA 2018), as
segmentation_models.pytorch 0.6.0 builds it."""

import keras
from keras import layers

from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import conv_norm_relu, encode, upsample_like
from keras_segen.models.segmentation.head import check_common, classifier
from keras_segen.models.validation import check_choice, check_int

INTERPOLATIONS = ("nearest", "bilinear")


def _node(x, skips, filters, reference, batch_norm, interpolation, name):
    """SMP's U-Net ``DecoderBlock``: 2x upsampling (to ``reference``'s size), concatenation
    ``[upsampled, *skips]``, two 3x3 conv + BatchNorm + ReLU."""
    if reference is None:
        x = layers.UpSampling2D(2, interpolation=interpolation, name=f"{name}_up")(x)
    else:
        x = upsample_like(x, reference, interpolation, name=f"{name}_up")
    if skips:
        x = layers.Concatenate(name=f"{name}_concat")([x, *skips])
    x = conv_norm_relu(x, filters, 3, batch_norm, name=f"{name}_conv1")
    return conv_norm_relu(x, filters, 3, batch_norm, name=f"{name}_conv2")


def unet_plus_plus(
    input_shape=(None, None, 3),
    num_classes=1,
    backbone="resnet50",
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    decoder_filters=(256, 128, 64, 32, 16),
    batch_norm=True,
    interpolation="nearest",
    center=False,
    activation=None,
    name="unet_plus_plus",
):
    """Builds U-Net++ over any encoder of the seam.

    Zhou et al., "UNet++: A Nested U-Net Architecture for Medical Image Segmentation",
    DLMIA 2018, layer for layer as segmentation_models.pytorch 0.6.0 ``UnetPlusPlus``.
    With ``f = [P5, P4, P3, P2, P1]``, node ``x_d_j`` (``d <= j < 4``) sits at ``f[j + 1]``'s
    resolution: ``x_d_d`` upsamples ``f[d]`` 2x (nearest) and concatenates ``f[d + 1]``;
    ``x_d_j`` upsamples ``x_d_(j-1)`` and concatenates the dense nodes
    ``x_(d+1)_j .. x_j_j`` and then ``f[j + 1]``; each node ends with two 3x3 conv (no bias)
    + BatchNorm + ReLU. The top nodes ``x_0_j`` have ``decoder_filters[j]`` channels, the
    others the width of ``f[j + 1]`` (SMP's layout, which makes the decoder large on wide
    encoders). ``x_0_4`` upsamples ``x_0_3`` to the input size with no skip, to
    ``decoder_filters[4]`` channels, and a 3x3 classifier gives the scores. Encoders
    without P1 (ConvNeXt) have no nodes at P1's level: ``x_0_3`` has no skip. The paper's
    deep supervision (a head on every top node) is not built: SMP has none, and its top
    nodes are at different resolutions.

    Decoder and head have SMP's trainable parameter count for the same encoder channels
    (25,478,293 on ResNet-50 with 5 classes), except on VGG encoders: there SMP 0.6.0
    creates a center block (two 3x3 conv + BatchNorm + ReLU at P5's width) that its
    forward pass never calls, so its count includes ``2 * (9*c5*c5 + 2*c5)`` unused
    parameters. ``center=True`` builds that block and applies it to P5 (as SMP's U-Net).

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``, fixed ones must be multiples
            of 32.
        num_classes: number of output channels (SMP's default, 1, is a binary mask).
        backbone: an encoder name from ``keras_segen.list_backbones()``, or a keras-hub
            backbone with ``pyramid_outputs``.
        weights: encoder weights: ``None``, ``"imagenet"`` or a weights file.
        freeze_backbone: make the encoder non-trainable.
        backbone_kwargs: extra encoder arguments (``{"alpha": 0.5}``, ``{"filters": 8}``).
        decoder_filters: widths of the five top nodes ``x_0_0 .. x_0_4`` (SMP
            ``decoder_channels``).
        batch_norm: BatchNorm after every decoder convolution (SMP ``decoder_use_norm``);
            without it the convolutions have biases.
        interpolation: ``"nearest"`` (SMP) or ``"bilinear"`` upsampling.
        center: apply a center block to P5 before the decoder (not in SMP's U-Net++).
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` images in [0, 1] to
        ``(B, H, W, num_classes)``; its encoder is the layer ``"encoder"``.

    Example:
        >>> model = keras_segen.unet_plus_plus((64, 64, 3), num_classes=3, backbone="light",
        ...     backbone_kwargs={"filters": 4}, decoder_filters=(16, 8, 8, 4, 4))
        >>> model.output_shape  # logits at input resolution
        (None, 64, 64, 3)
    """
    builder = "unet_plus_plus"
    check_backbone(builder, backbone)
    if not isinstance(decoder_filters, (tuple, list)) or len(decoder_filters) != 5:
        raise ValueError(f"{builder}: decoder_filters must be 5 widths (x_0_0 .. x_0_4); "
                         f"got {decoder_filters!r}.")  # fmt: skip
    for width in decoder_filters:
        check_int(builder, "decoder_filters", width)
    check_choice(builder, "interpolation", interpolation, INTERPOLATIONS)
    check_choice(builder, "center", center, (True, False))
    input_shape = check_common(builder, input_shape, num_classes, activation, stride=32)

    inputs = keras.Input(input_shape, name="image")
    pyramid = encode(inputs, backbone, weights, 32, freeze_backbone, backbone_kwargs)
    f = [pyramid.get(f"P{level}") for level in (5, 4, 3, 2, 1)]
    if center:
        for index in (1, 2):
            f[0] = conv_norm_relu(f[0], f[0].shape[-1], 3, batch_norm, name=f"center{index}")

    def node(d, j, x, skips):
        filters = decoder_filters[j] if d == 0 else f[j + 1].shape[-1]
        return _node(x, skips, filters, f[j + 1], batch_norm, interpolation,
                     name=f"decoder_x_{d}_{j}")  # fmt: skip

    dense = {}
    for d in range(4):  # x_d_d: f[d] upsampled, with f[d + 1]
        if f[d + 1] is not None:
            dense[d, d] = node(d, d, f[d], [f[d + 1]])
    for span in range(1, 4):
        for d in range(4 - span):
            j = d + span
            skips = [dense[k, j] for k in range(d + 1, j + 1) if (k, j) in dense]
            if f[j + 1] is not None:
                dense[d, j] = node(d, j, dense[d, j - 1], [*skips, f[j + 1]])
            elif d == 0:  # no P1: the top node only
                dense[d, j] = _node(dense[d, j - 1], [], decoder_filters[j], None, batch_norm,
                                    interpolation, name=f"decoder_x_{d}_{j}")  # fmt: skip
    x = _node(dense[0, 3], [], decoder_filters[4], inputs, batch_norm, interpolation,
              name="decoder_x_0_4")  # fmt: skip
    return keras.Model(inputs, classifier(x, num_classes, activation, 3), name=name)


PAPER = (
    "Zhou, Rahman Siddiquee, Tajbakhsh & Liang, UNet++: A Nested U-Net Architecture for "
    "Medical Image Segmentation, DLMIA 2018"
)
PRESETS = {
    "unet_plus_plus": {
        "paper": {
            "description": "SMP's U-Net++ on ResNet-50 (decoder 256/128/64/32/16) for one "
            "class at 224x224 (the paper's polyp images); the paper's own 32..512 encoder "
            "and its deep supervision are not built",
            "config": {
                "input_shape": (224, 224, 3), "num_classes": 1, "backbone": "resnet50",
            },
        },
        "edge": {
            "description": "MobileNetV2 (alpha 0.5), decoder 64/32/16/16/8 at 256x256, "
            "int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 2, "backbone": "mobilenetv2",
                "backbone_kwargs": {"alpha": 0.5}, "decoder_filters": (64, 32, 16, 16, 8),
            },
        },
        "tiny": {
            "description": "light encoder with 4 filters, decoder 16/8/8/4/4 at 32x32, "
            "3 classes (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "backbone": "light",
                "backbone_kwargs": {"filters": 4}, "decoder_filters": (16, 8, 8, 4, 4),
            },
        },
    },
}  # fmt: skip
