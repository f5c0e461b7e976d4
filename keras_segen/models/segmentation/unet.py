"""U-Net (Ronneberger, Fischer & Brox, MICCAI 2015)."""

import keras
from keras import layers

from keras_segen.layers import CenterCropLike, Upscale2D, conv_bn_act
from keras_segen.models.encoders import check_backbone
from keras_segen.models.segmentation.encoded import encode, upsample_like
from keras_segen.models.segmentation.head import check_common, classifier, output_activation
from keras_segen.models.validation import check_choice, check_int, check_rate

PADDINGS = ("same", "valid")
UPSAMPLINGS = ("transpose", "bilinear")
# The skips of the encoder-decoder U-Net's five blocks, coarsest first (None: the input).
LEVELS = ("P4", "P3", "P2", "P1", None)


def unet_output_size(size, depth=4, padding="valid"):
    """Output height (or width) of a U-Net for an input of ``size``, or ``None`` if invalid.

    With unpadded 3x3 convolutions every convolution trims 2 pixels and every 2x2 pooling
    needs an even size: 572 -> 388 for ``depth=4`` (Fig. 1 of the paper).
    """
    if padding == "same":
        return size if size % 2**depth == 0 else None
    for _ in range(depth):
        size -= 4
        if size <= 0 or size % 2:
            return None
        size //= 2
    size -= 4
    if size <= 0:
        return None
    for _ in range(depth):
        size = 2 * size - 4
        if size <= 0:
            return None
    return size


def _check_valid_size(builder, axis, size, depth):
    if size is None or unet_output_size(size, depth) is not None:
        return
    near = [s for s in range(max(1, size - 64), size + 64) if unet_output_size(s, depth)]
    below = [s for s in near if s < size][-1:]
    above = [s for s in near if s > size][:1]
    raise ValueError(
        f"{builder}: with padding='valid' and depth={depth}, input {axis} {size} does not "
        "give an even size before every pooling (each 3x3 convolution trims 2 pixels); "
        f"nearest valid sizes: {below + above}."
    )


def _double_conv(x, filters, padding, batch_norm, initializer, name):
    for index in (1, 2):
        x = conv_bn_act(
            x,
            filters,
            padding=padding,
            batch_norm=batch_norm,
            kernel_initializer=initializer,
            name=f"{name}_conv{index}",
        )
    return x


def _encoder_decoder(inputs, num_classes, backbone, weights, freeze, backbone_kwargs,
                     decoder_filters, activation):  # fmt: skip
    """The decoder of segmentation_models(.pytorch)'s ``Unet`` over an encoder's P1..P5.

    Each block upsamples 2x (nearest) to the next finer level, concatenates that level's
    features (upsampled map first), and applies two 3x3 conv-BN-ReLU; the last block
    reaches the input size with no skip. VGG encoders get SMP's centre block (two 3x3
    conv-BN-ReLU at P5's width). A 3x3 convolution gives the class scores.
    """
    pyramid = encode(inputs, backbone, weights, 32, freeze, backbone_kwargs)
    x = pyramid["P5"]
    if isinstance(backbone, str) and backbone.startswith("vgg"):
        for index in (1, 2):
            x = conv_bn_act(x, x.shape[-1], name=f"center_conv{index}")
    for block, (level, width) in enumerate(zip(LEVELS, decoder_filters), start=1):
        name = f"decoder{block}"
        if level is None:
            x = upsample_like(x, inputs, name=f"{name}_upsample")
        elif level in pyramid:
            x = upsample_like(x, pyramid[level], name=f"{name}_upsample")
            x = layers.Concatenate(name=f"{name}_concat")([x, pyramid[level]])
        else:  # a level the encoder lacks (ConvNeXt has no P1): 2x, no skip
            x = layers.UpSampling2D(2, name=f"{name}_upsample")(x)
        for index in (1, 2):
            x = conv_bn_act(x, width, name=f"{name}_conv{index}")
    logits = layers.Conv2D(num_classes, 3, padding="same", name="classifier")(x)
    return output_activation(logits, activation)


def unet(
    input_shape=(None, None, 3),
    num_classes=2,
    filters=64,
    depth=4,
    padding="same",
    batch_norm=True,
    dropout=0.0,
    upsampling="transpose",
    kernel_initializer="he_normal",
    backbone=None,
    weights=None,
    freeze_backbone=False,
    backbone_kwargs=None,
    decoder_filters=(256, 128, 64, 32, 16),
    activation=None,
    name="unet",
):
    """Builds a U-Net.

    Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image Segmentation",
    MICCAI 2015. A contracting path of ``depth`` levels (two 3x3 convolutions + ReLU, then
    2x2 max pooling, doubling the width each level), a bottleneck, and an expanding path
    that upsamples by 2 while halving the width, concatenates the encoder map of the same
    level (centre-cropped when unpadded) and applies two 3x3 convolutions; a 1x1
    convolution gives the class scores. ``padding="valid", batch_norm=False, dropout=0.5``
    with the other defaults is the paper's network (572x572 -> 388x388, the ``paper``
    preset): the same layers, sizes and 31,030,658 parameters, dropout at the end of the
    contracting path and weights from a normal distribution with standard deviation
    ``sqrt(2 / fan_in)`` (He) in every layer. The default (``"same"`` padding, BatchNorm,
    no dropout) keeps the output at the input size and trains without the paper's careful
    initialisation.

    With a ``backbone`` (any encoder of ``keras_segen.list_backbones()``, optionally
    pretrained), the model is segmentation_models' ``Unet``: the encoder's P1..P5 and five
    decoder blocks of ``decoder_filters`` (nearest 2x upsampling, skip concatenation, two
    3x3 conv-BN-ReLU), then a 3x3 classifier; ``filters``, ``depth``, ``padding``,
    ``batch_norm``, ``dropout``, ``upsampling`` and ``kernel_initializer`` then do not apply.

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None``.
        num_classes: number of output classes.
        filters: width of the first level (64 in the paper).
        depth: number of poolings (4 in the paper).
        padding: ``"same"`` (output size = input size; H and W multiples of ``2**depth``)
            or ``"valid"`` (the paper: output smaller than input, skips cropped).
        batch_norm: BatchNorm after every convolution (not in the paper).
        dropout: dropout rate at the end of the contracting path (the paper's "drop-out
            layers at the end of the contracting path"); 0 disables it.
        upsampling: ``"transpose"`` (the paper's 2x2 up-convolution) or ``"bilinear"``
            (bilinear resize then a 1x1 convolution that halves the width).
        kernel_initializer: initialiser of every convolution, up-convolution and the
            classifier (``"he_normal"``: the paper's ``sqrt(2 / N)``).
        backbone: ``None`` (the paper's encoder) or an encoder name (``"resnet50"``,
            ``"efficientnetv2b0"``, ...; see ``keras_segen.encoder``).
        weights: with a backbone: ``None``, ``"imagenet"`` or a weights file.
        freeze_backbone: with a backbone: train the decoder only.
        backbone_kwargs: more arguments of ``keras_segen.encoder`` (e.g. ``{"alpha": 0.5}``).
        decoder_filters: with a backbone: the widths of the five decoder blocks.
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` to ``(B, H', W', num_classes)``,
        with ``H' = H`` for ``padding="same"`` (see ``unet_output_size`` otherwise).

    Example:
        >>> model = keras_segen.unet(input_shape=(256, 256, 3), num_classes=3)
        >>> model.output_shape  # logits at input resolution
        (None, 256, 256, 3)
        >>> keras_segen.unet(input_shape=(None, None, 3), num_classes=3).output_shape
        (None, None, None, 3)
    """
    builder = "unet"
    if backbone is not None:
        check_backbone(builder, backbone)
        if len(decoder_filters) != len(LEVELS):
            raise ValueError(f"{builder}: decoder_filters needs {len(LEVELS)} widths; got "
                             f"{decoder_filters!r}.")  # fmt: skip
        for width in decoder_filters:
            check_int(builder, "decoder_filters", width)
        input_shape = check_common(builder, input_shape, num_classes, activation)
        inputs = keras.Input(input_shape, name="image")
        outputs = _encoder_decoder(inputs, num_classes, backbone, weights, freeze_backbone,
                                   backbone_kwargs, decoder_filters, activation)  # fmt: skip
        return keras.Model(inputs, outputs, name=name)
    if weights is not None or freeze_backbone or backbone_kwargs:
        raise ValueError(f"{builder}: weights, freeze_backbone and backbone_kwargs need a "
                         "backbone (e.g. backbone='resnet50').")  # fmt: skip
    check_int(builder, "filters", filters)
    check_int(builder, "depth", depth)
    check_choice(builder, "padding", padding, PADDINGS)
    check_choice(builder, "upsampling", upsampling, UPSAMPLINGS)
    dropout = check_rate(builder, "dropout", dropout)
    stride = 2**depth if padding == "same" else 1
    input_shape = check_common(builder, input_shape, num_classes, activation, stride)
    if padding == "valid":
        _check_valid_size(builder, "height", input_shape[0], depth)
        _check_valid_size(builder, "width", input_shape[1], depth)

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    skips = []
    for level in range(1, depth + 1):
        width = filters * 2 ** (level - 1)
        x = _double_conv(x, width, padding, batch_norm, kernel_initializer, f"encoder{level}")
        if dropout and level == depth:
            x = layers.Dropout(dropout, name=f"encoder{level}_dropout")(x)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
    bottleneck = filters * 2**depth
    x = _double_conv(x, bottleneck, padding, batch_norm, kernel_initializer, "bottleneck")
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)

    for level in range(depth, 0, -1):
        width = filters * 2 ** (level - 1)
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(
                width,
                2,
                strides=2,
                kernel_initializer=kernel_initializer,
                name=f"decoder{level}_upconv",
            )(x)
        else:
            x = Upscale2D(2, name=f"decoder{level}_upsample")(x)
            x = layers.Conv2D(
                width, 1, kernel_initializer=kernel_initializer, name=f"decoder{level}_upconv"
            )(x)
        skip = skips[level - 1]
        if padding == "valid":
            skip = CenterCropLike(name=f"decoder{level}_crop")([skip, x])
        x = layers.Concatenate(name=f"decoder{level}_concat")([skip, x])
        x = _double_conv(x, width, padding, batch_norm, kernel_initializer, f"decoder{level}")
    logits = classifier(x, num_classes, activation, kernel_initializer=kernel_initializer)
    return keras.Model(inputs, logits, name=name)


PAPER = (
    "Ronneberger, Fischer & Brox, U-Net: Convolutional Networks for Biomedical Image "
    "Segmentation, MICCAI 2015"
)
PRESETS = {
    "unet": {
        "paper": {
            "description": "572x572 grey tiles -> 388x388, 2 classes, unpadded convs, no BN, "
            "dropout 0.5 at the end of the contracting path, He init (Sec. 2-3, Fig. 1)",
            "config": {
                "input_shape": (572, 572, 1), "num_classes": 2, "padding": "valid",
                "batch_norm": False, "dropout": 0.5, "kernel_initializer": "he_normal",
            },
        },
        "edge": {
            "description": "16 base filters, bilinear upsampling at 256x256, int8-friendly",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 2, "filters": 16,
                "upsampling": "bilinear",
            },
        },
        "small": {
            "description": "8 base filters at 64x64, 4 classes (the quickstart on shapes)",
            "config": {"input_shape": (64, 64, 3), "num_classes": 4, "filters": 8},
        },
        "tiny": {
            "description": "4 base filters, depth 2 at 32x32, 3 classes (tests)",
            "config": {"input_shape": (32, 32, 3), "num_classes": 3, "filters": 4, "depth": 2},
        },
    },
}  # fmt: skip
