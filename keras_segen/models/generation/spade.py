"""SPADE generator and multi-scale PatchGAN discriminator (Park, Liu, Wang & Zhu, CVPR 2019)."""

import keras
from keras import layers

from keras_segen.layers import (
    SPADE,
    AveragePoolingExcludingPadding2D,
    NearestResize,
    spectral_norm,
    xavier_normal,
)
from keras_segen.layers.spade import SPADE_NORMS
from keras_segen.models.validation import check_choice, check_input_shape, check_int

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}
DISCRIMINATOR_NORMS = ("instance", None)
SPADE_HIDDEN = 128


def _convolution(filters, kernel_size, name, spectral, use_bias=True):
    convolution = layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=xavier_normal(),
        name=name,
    )
    return spectral_norm(convolution, spectral)


def spade_resblock(x, label_map, filters, name, norm="batch", spectral_normalization=True,
                   hidden=SPADE_HIDDEN):  # fmt: skip
    """The SPADE residual block: ``[x, label_map] -> (B, h, w, filters)``.

    NVlabs/SPADE ``SPADEResnetBlock``: ``SPADE -> LeakyReLU 0.2 -> 3x3 conv`` twice (the
    first to ``min(C_in, filters)`` channels), added to the input; when the width changes
    the shortcut is ``SPADE -> 1x1 conv`` without bias. The three convolutions are
    spectrally normalised, as the authors' ``spectralspadesyncbatch3x3`` default says.

    Example:
        >>> x = keras.Input((8, 8, 32))
        >>> label_map = keras.Input((32, 32, 5))
        >>> y = keras_segen.models.generation.spade.spade_resblock(x, label_map, 16, "block")
        >>> y.shape  # the width changes, so the shortcut is learned
        (None, 8, 8, 16)
    """
    spade = dict(hidden=hidden, norm=norm)
    middle = min(x.shape[-1], filters)
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = SPADE(**spade, name=f"{name}_norm_s")([x, label_map])
        shortcut = _convolution(filters, 1, f"{name}_conv_s", spectral_normalization,
                                use_bias=False)(shortcut)  # fmt: skip
    dx = x
    for index, width in enumerate((middle, filters)):
        dx = SPADE(**spade, name=f"{name}_norm_{index}")([dx, label_map])
        dx = layers.LeakyReLU(0.2, name=f"{name}_lrelu_{index}")(dx)
        dx = _convolution(width, 3, f"{name}_conv_{index}", spectral_normalization)(dx)
    return layers.Add(name=f"{name}_add")([shortcut, dx])


def spade_generator(
    input_shape=(256, 256, 36),
    output_channels=3,
    filters=64,
    num_upsampling_layers="normal",
    norm="batch",
    spectral_normalization=True,
    hidden=SPADE_HIDDEN,
    name="spade_generator",
):
    """Builds the SPADE generator: one-hot label map -> image in [-1, 1].

    Park, Liu, Wang & Zhu, "Semantic Image Synthesis with Spatially-Adaptive
    Normalization", CVPR 2019 (NVlabs/SPADE ``SPADEGenerator`` without the VAE encoder).
    The label map, resized (nearest) to ``H / 2**n x W / 2**n``, goes through a 3x3
    convolution to ``16 * filters`` channels; then SPADE residual blocks ``head_0``,
    ``G_middle_0``, ``G_middle_1`` (16f), ``up_0`` (8f), ``up_1`` (4f), ``up_2`` (2f),
    ``up_3`` (f) (and ``up_4``, f/2, for ``"most"``) with a nearest 2x upsampling after
    ``head_0`` and before each ``up_*`` block (and before ``G_middle_1`` for ``"more"``
    and ``"most"``); every block re-reads the full-size label map through its SPADE
    layers. LeakyReLU 0.2, a 3x3 convolution to ``output_channels`` and ``tanh`` end it.
    Convolutions start from the authors' ``xavier_normal(gain=0.02)``.

    Args:
        input_shape: ``(H, W, num_classes)`` of the one-hot label map; H and W fixed
            multiples of ``2 ** n`` (``n`` = 5, 6, 7 upsamplings), at least ``2 ** (n + 1)``.
        output_channels: channels of the generated image.
        filters: ``ngf`` (64 in the paper): the width of the last block.
        num_upsampling_layers: ``"normal"`` (5), ``"more"`` (6, the authors' Cityscapes
            setting) or ``"most"`` (7).
        norm: the SPADE layers' parameter-free norm: ``"batch"`` (the authors' generator
            default) or ``"instance"``.
        spectral_normalization: spectral norm on the residual blocks' convolutions.
        hidden: channels of each SPADE layer's shared convolution (128).
        name: model name.

    Returns:
        A functional ``keras.Model``: ``(B, H, W, num_classes) -> (B, H, W,
        output_channels)`` in [-1, 1], float32 even under a mixed-precision policy.

    Example:
        >>> generator = keras_segen.spade_generator((64, 64, 4), filters=8)
        >>> generator.output_shape  # an image of the label map's size
        (None, 64, 64, 3)
    """
    builder = "spade_generator"
    check_int(builder, "output_channels", output_channels)
    check_int(builder, "filters", filters, minimum=2)
    check_int(builder, "hidden", hidden)
    check_choice(builder, "num_upsampling_layers", num_upsampling_layers, tuple(UPSAMPLING_LAYERS))
    check_choice(builder, "norm", norm, SPADE_NORMS)
    upsamplings = UPSAMPLING_LAYERS[num_upsampling_layers]
    height, width, _ = check_input_shape(builder, input_shape, stride=2**upsamplings)
    if height is None or width is None:
        raise ValueError(
            f"{builder}: input_shape needs a fixed height and width (the first block's size "
            f"is H / 2**{upsamplings}); got {tuple(input_shape)}."
        )
    first = (height >> upsamplings, width >> upsamplings)
    if min(first) < 2:
        smallest = 2 ** (upsamplings + 1)
        raise ValueError(
            f"{builder}: input_shape {height}x{width} starts the generator at "
            f"{first[0]}x{first[1]} (H / 2**{upsamplings}); SPADE needs at least 2x2 there: "
            "the normalisation statistics of a 1-pixel map are those of one constant "
            "feature, and images generated in inference mode come out tinted. Use H and W "
            f">= {smallest}."
        )
    block = dict(norm=norm, spectral_normalization=spectral_normalization, hidden=hidden)

    def upsample(x, before):
        return layers.UpSampling2D(2, interpolation="nearest", name=f"{before}_up")(x)

    label_map = keras.Input(tuple(input_shape), name="label_map")
    x = NearestResize(height >> upsamplings, width >> upsamplings, name="label_map_small")(
        label_map
    )
    x = _convolution(16 * filters, 3, "fc", spectral=False)(x)
    x = spade_resblock(x, label_map, 16 * filters, "head_0", **block)
    x = spade_resblock(upsample(x, "G_middle_0"), label_map, 16 * filters, "G_middle_0", **block)
    if upsamplings > 5:
        x = upsample(x, "G_middle_1")
    x = spade_resblock(x, label_map, 16 * filters, "G_middle_1", **block)
    widths = [8 * filters, 4 * filters, 2 * filters, filters] + ([filters // 2] * (upsamplings > 6))
    for index, block_width in enumerate(widths):
        name = f"up_{index}"
        x = spade_resblock(upsample(x, name), label_map, block_width, name, **block)
    x = layers.LeakyReLU(0.2, name="image_lrelu")(x)
    x = _convolution(output_channels, 3, "conv_img", spectral=False)(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(label_map, image, name=name)


def spade_discriminator(
    input_shape=(256, 256, 36),
    target_channels=3,
    filters=64,
    num_layers=4,
    num_scales=2,
    norm="instance",
    spectral_normalization=True,
    name="spade_discriminator",
):
    """Builds SPADE's multi-scale PatchGAN: ``[label map, image] -> features per scale``.

    NVlabs/SPADE ``MultiscaleDiscriminator`` of ``NLayerDiscriminator``: the one-hot label
    map and the image are concatenated and judged at ``num_scales`` scales, each one the
    previous averaged 3x3 with stride 2 (padding not counted). At each scale: a 4x4
    stride-2 convolution with ``filters`` channels and LeakyReLU 0.2; ``num_layers - 1``
    4x4 convolutions doubling the width up to 512, stride 2 but the last (stride 1), each
    spectrally normalised, without bias, with instance norm and LeakyReLU 0.2; a 4x4
    convolution to one logit per patch. Every convolution pads 2 pixels per side, as the
    authors' code does, so 256 pixels give 129, 65, 33, 34 and 35 per side.

    Args:
        input_shape: ``(H, W, num_classes)`` of the label map; H and W may be ``None``.
        target_channels: channels of the real or generated image.
        filters: ``ndf`` (64).
        num_layers: ``n_layers_D`` (4).
        num_scales: ``num_D`` (2).
        norm: ``"instance"`` (the authors' ``spectralinstance``) or ``None`` (then the
            middle convolutions keep their bias).
        spectral_normalization: spectral norm on the middle convolutions.
        name: model name.

    Returns:
        A functional ``keras.Model`` whose output is a list of ``num_scales`` lists of
        ``num_layers + 1`` float32 maps: each layer's features (for feature matching), then
        the patch logits.

    Example:
        >>> discriminator = keras_segen.spade_discriminator((64, 64, 4), filters=8)
        >>> outputs = discriminator([np.zeros((1, 64, 64, 4)), np.zeros((1, 64, 64, 3))])
        >>> [[map_.shape[1] for map_ in scale] for scale in outputs]  # sizes per side
        [[33, 17, 9, 10, 11], [17, 9, 5, 6, 7]]
    """
    builder = "spade_discriminator"
    check_int(builder, "target_channels", target_channels)
    check_int(builder, "filters", filters)
    check_int(builder, "num_layers", num_layers, minimum=2)
    check_int(builder, "num_scales", num_scales)
    check_choice(builder, "norm", norm, DISCRIMINATOR_NORMS)
    height, width, _ = check_input_shape(builder, input_shape)
    label_map = keras.Input(tuple(input_shape), name="label_map")
    image = keras.Input((height, width, target_channels), name="image")
    x = layers.Concatenate(name="label_map_and_image")([label_map, image])
    outputs = []
    for scale in range(1, num_scales + 1):
        if scale > 1:
            x = AveragePoolingExcludingPadding2D(3, 2, 1, name=f"downsample{scale}")(x)
        outputs.append(_patch_features(x, filters, num_layers, norm, spectral_normalization,
                                       f"scale{scale}"))  # fmt: skip
    return keras.Model([label_map, image], outputs, name=name)


def _patch_features(x, filters, num_layers, norm, spectral_normalization, name):
    """The ``NLayerDiscriminator`` features and logits of one scale."""
    features = []
    width = filters
    for index in range(num_layers + 1):
        first, last = index == 0, index == num_layers
        if index:
            width = 1 if last else min(width * 2, 512)
        stride = 2 if index < num_layers - 1 else 1
        middle = not first and not last  # spectral norm here, and the norm if any
        normalised = middle and norm is not None
        y = layers.ZeroPadding2D(2, name=f"{name}_layer{index}_pad")(features[-1] if index else x)
        convolution = layers.Conv2D(
            width,
            4,
            strides=stride,
            use_bias=not normalised,
            kernel_initializer=xavier_normal(),
            name=f"{name}_layer{index}_conv",
        )
        y = spectral_norm(convolution, spectral_normalization and middle)(y)
        if last:
            features.append(layers.Activation("linear", dtype="float32", name=f"{name}_logits")(y))
            break
        if normalised:
            y = layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False,
                                          name=f"{name}_layer{index}_in")(y)  # fmt: skip
        # float32 features under mixed precision: the feature-matching loss compares them
        activation = layers.LeakyReLU(0.2, dtype="float32", name=f"{name}_layer{index}_lrelu")
        features.append(activation(y))
    return features


PAPER = (
    "Park, Liu, Wang & Zhu, Semantic Image Synthesis with Spatially-Adaptive Normalization, "
    "CVPR 2019"
)
PRESETS = {
    "spade_generator": {
        "paper": {
            "description": "Cityscapes 256x512: 35 labels + the instance-edge map, ngf 64, "
            "6 upsamplings ('more')",
            "config": {"input_shape": (256, 512, 36), "filters": 64,
                       "num_upsampling_layers": "more"},
        },
        "tiny": {
            "description": "ngf 4, 8 hidden, 4 classes at 64x64, the smallest size (tests)",
            "config": {"input_shape": (64, 64, 4), "filters": 4, "hidden": 8},
        },
    },
    "spade_discriminator": {
        "paper": {
            "description": "2 scales of 4-layer PatchGANs (ndf 64) on Cityscapes 256x512 "
            "label maps (36 channels) and images",
            "config": {"input_shape": (256, 512, 36), "filters": 64},
        },
        "tiny": {
            "description": "ndf 4, 4 classes at 64x64 (tests)",
            "config": {"input_shape": (64, 64, 4), "filters": 4},
        },
    },
}  # fmt: skip
