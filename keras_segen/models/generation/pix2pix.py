"""pix2pix U-Net generator and PatchGAN discriminator (Isola et al., CVPR 2017)."""

import math

import keras
from keras import layers

from keras_segen.layers import spectral_norm
from keras_segen.models.generation.dcgan import batch_norm, initial_weights
from keras_segen.models.validation import (
    check_choice,
    check_input_shape,
    check_int,
    check_rate,
)

PATCHGAN_NORMS = ("batch", "instance", None)
PATCHGAN_PADDINGS = ("same", "reference")
MAX_DOWN_BLOCKS = 8


def _normalization(norm, name):
    if norm == "batch":
        return batch_norm(f"{name}_bn")
    # GroupNormalization with one group per channel is instance normalisation.
    return layers.GroupNormalization(groups=-1, name=f"{name}_in")


def down_block_count(height, width):
    """Down blocks of the pix2pix U-Net at ``height x width``: halve until 1 pixel, at most 8."""
    return min(MAX_DOWN_BLOCKS, int(math.log2(min(height, width))))


def _check_generator_size(builder, input_shape):
    check_input_shape(builder, input_shape, min_size=16)
    height, width, _ = input_shape
    if height is None or width is None:
        raise ValueError(
            f"{builder}: input_shape needs a fixed height and width (the number of down "
            f"blocks follows the size); got {tuple(input_shape)}."
        )
    stride = 2 ** down_block_count(height, width)
    return check_input_shape(builder, input_shape, stride=stride, min_size=16)


def pix2pix_generator(
    input_shape=(256, 256, 3),
    output_channels=3,
    filters=64,
    dropout=0.5,
    name="pix2pix_generator",
):
    """Builds the pix2pix U-Net generator.

    Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017. At 256x256 the encoder is C64-C128-C256-C512-C512-C512-C512-C512
    (4x4 stride-2 convolutions, BatchNorm except on the first and the innermost block,
    LeakyReLU 0.2) down to 1x1; the decoder mirrors it with 4x4 stride-2 transposed
    convolutions, BatchNorm, dropout 0.5 in its first three blocks and a skip connection
    from the encoder block of the same size, then ReLU on the concatenation (as both
    reference implementations do, so the skip half enters the next up-convolution through
    ReLU, not the encoder's LeakyReLU); a last transposed convolution maps to
    ``output_channels`` with ``tanh``. Smaller inputs get fewer blocks: the
    encoder halves the size until it reaches 1 pixel (at most 8 blocks), so 32x32 gives
    C64-C128-C256-C512-C512.

    Dropout is active in training only (the paper also keeps it at test time as the noise
    source; call the model with ``training=True`` for that). For label -> image synthesis
    the input is the one-hot label map (``input_shape[-1] = num_classes``).

    Args:
        input_shape: ``(H, W, C)``; H and W fixed, >= 16, multiples of ``2 ** blocks``.
        output_channels: channels of the generated image.
        filters: width of the first block (64 in the paper); later blocks double it up to
            ``8 * filters``.
        dropout: dropout rate of the first three decoder blocks.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``(B, H, W, C)`` -> ``(B, H, W, output_channels)`` in
        [-1, 1], float32 even under a mixed-precision policy.

    Example:
        >>> generator = keras_segen.pix2pix_generator((256, 256, 3))
        >>> generator.output_shape  # an image in [-1, 1] (tanh) of the input's size
        (None, 256, 256, 3)
    """
    builder = "pix2pix_generator"
    check_int(builder, "output_channels", output_channels)
    check_int(builder, "filters", filters)
    check_rate(builder, "dropout", dropout)
    height, width, _ = _check_generator_size(builder, input_shape)
    blocks = down_block_count(height, width)
    widths = [min(filters * 2**index, filters * 8) for index in range(blocks)]

    source = keras.Input(tuple(input_shape), name="source")
    x = source
    skips = []
    for index, block_width in enumerate(widths, start=1):
        innermost = index == blocks
        norm = 1 < index < blocks
        x = layers.Conv2D(
            block_width,
            4,
            strides=2,
            padding="same",
            use_bias=False,  # as in the reference implementation, even without a norm
            kernel_initializer=initial_weights(),
            name=f"down{index}_conv",
        )(x)
        if norm:
            x = _normalization("batch", f"down{index}")(x)
        skips.append(x)  # before the activation, which the reference applies in the next block
        if not innermost:
            x = layers.LeakyReLU(0.2, name=f"down{index}_lrelu")(x)
    x = layers.ReLU(name="bottleneck_relu")(x)
    for index, (skip, block_width) in enumerate(zip(skips[-2::-1], widths[-2::-1]), start=1):
        x = layers.Conv2DTranspose(
            block_width,
            4,
            strides=2,
            padding="same",
            use_bias=False,
            kernel_initializer=initial_weights(),
            name=f"up{index}_conv",
        )(x)
        x = _normalization("batch", f"up{index}")(x)
        if index <= 3 and dropout:
            x = layers.Dropout(dropout, name=f"up{index}_dropout")(x)
        x = layers.Concatenate(name=f"up{index}_skip")([x, skip])
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = layers.Conv2DTranspose(
        output_channels,
        4,
        strides=2,
        padding="same",
        kernel_initializer=initial_weights(),
        name="output_conv",
    )(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(source, image, name=name)


def patchgan_receptive_field(num_layers):
    """Receptive field of one PatchGAN output: 16, 34, 70, 142, 286 for 1..5 layers."""
    field, jump = 1, 1
    for _ in range(num_layers):
        field, jump = field + 3 * jump, jump * 2
    return field + 2 * 3 * jump  # two stride-1 4x4 convolutions


def patchgan_discriminator(
    input_shape=(256, 256, 3),
    target_channels=3,
    filters=64,
    num_layers=3,
    norm="batch",
    padding="same",
    spectral_normalization=False,
    name="patchgan_discriminator",
):
    """Builds the conditional PatchGAN discriminator: ``[source, target] -> patch logits``.

    Isola et al., CVPR 2017: the source (input image or one-hot label map) and the target
    (real or generated image) are concatenated along the channels and classified patch by
    patch. With ``num_layers=3`` (the paper's default) the layers are C64-C128-C256 (4x4,
    stride 2), C512 (4x4, stride 1) and a 4x4 stride-1 convolution to one logit per
    patch; each logit sees a 70x70 patch. ``num_layers`` 1, 2, 4, 5 give 16, 34, 142, 286.
    With ``padding="same"`` the logit map is ``H / 2**num_layers`` (32x32 at 256); with
    ``padding="reference"`` every convolution pads one zero pixel per side as the
    authors' code does (``padw = 1`` in ``NLayerDiscriminator``), giving 30x30 at 256.

    Args:
        input_shape: ``(H, W, C)`` of the source; H and W multiples of ``2 ** num_layers``
            or ``None``.
        target_channels: channels of the real or generated image.
        filters: width of the first layer (64); later ones double it up to ``8 * filters``.
        num_layers: stride-2 layers.
        norm: ``"batch"`` (the paper), ``"instance"`` or ``None``; never on the first layer.
        padding: ``"same"`` or ``"reference"`` (1-pixel zero padding, unpadded 4x4
            convolutions: ``H / 2**n - 2`` logits per side).
        spectral_normalization: wrap every convolution in ``keras_segen.layers.SpectralNorm``.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``[(B, H, W, C), (B, H, W, target_channels)] ->
        (B, H / 2**n, W / 2**n, 1)`` float32 logits (``H / 2**n - 2`` with
        ``padding="reference"``).

    Example:
        >>> discriminator = keras_segen.patchgan_discriminator((256, 256, 3))
        >>> discriminator.output_shape  # one logit per 70x70 patch, 256 / 2**3 per side
        (None, 32, 32, 1)
    """
    builder = "patchgan_discriminator"
    check_int(builder, "target_channels", target_channels)
    check_int(builder, "filters", filters)
    check_int(builder, "num_layers", num_layers)
    check_choice(builder, "norm", norm, PATCHGAN_NORMS)
    check_choice(builder, "padding", padding, PATCHGAN_PADDINGS)
    height, width, _ = check_input_shape(builder, input_shape, stride=2**num_layers)
    source = keras.Input(tuple(input_shape), name="source")
    target = keras.Input((height, width, target_channels), name="target")
    x = layers.Concatenate(name="source_and_target")([source, target])
    for index in range(1, num_layers + 2):
        stride = 2 if index <= num_layers else 1
        with_norm = index > 1 and norm is not None
        if padding == "reference":
            x = layers.ZeroPadding2D(1, name=f"layer{index}_pad")(x)
        convolution = layers.Conv2D(
            min(filters * 2 ** (index - 1), filters * 8),
            4,
            strides=stride,
            padding="same" if padding == "same" else "valid",
            use_bias=not with_norm,
            kernel_initializer=initial_weights(),
            name=f"layer{index}_conv",
        )
        x = spectral_norm(convolution, spectral_normalization)(x)
        if with_norm:
            x = _normalization(norm, f"layer{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"layer{index}_lrelu")(x)
    if padding == "reference":
        x = layers.ZeroPadding2D(1, name="patch_logits_pad")(x)
    logits = layers.Conv2D(
        1,
        4,
        padding="same" if padding == "same" else "valid",
        kernel_initializer=initial_weights(),
        name="patch_logits",
    )
    logits = spectral_norm(logits, spectral_normalization)(x)
    logits = layers.Activation("linear", dtype="float32", name="output")(logits)
    return keras.Model([source, target], logits, name=name)


PAPER = (
    "Isola, Zhu, Zhou & Efros, Image-to-Image Translation with Conditional Adversarial "
    "Networks, CVPR 2017"
)
PRESETS = {
    "pix2pix_generator": {
        "paper": {
            "description": "U-Net 256 (ngf 64, 8 down blocks): 54,413,955 trainable parameters",
            "config": {"input_shape": (256, 256, 3), "output_channels": 3, "filters": 64},
        },
        "tiny": {
            "description": "4 filters, 4-channel source at 32x32 (tests)",
            "config": {"input_shape": (32, 32, 4), "output_channels": 3, "filters": 4},
        },
    },
    "patchgan_discriminator": {
        "paper": {
            "description": "70x70 PatchGAN (3 layers, ndf 64) on 256x256 pairs with the "
            "reference's 1-pixel padding: 30x30 logits, 2,768,705 trainable parameters",
            "config": {
                "input_shape": (256, 256, 3), "target_channels": 3, "filters": 64,
                "num_layers": 3, "padding": "reference",
            },
        },
        "tiny": {
            "description": "4 filters, 4-channel source at 32x32 (tests)",
            "config": {"input_shape": (32, 32, 4), "target_channels": 3, "filters": 4},
        },
    },
}  # fmt: skip
