"""ReSeg (Visin et al., CVPR Workshops 2016), built on ReNet (Visin et al. 2015)."""

import math

import keras
from keras import layers

from keras_segen.layers import PatchesToChannels, ReNetSweep, conv_bn_act
from keras_segen.layers.renet import CELLS
from keras_segen.models.segmentation.head import check_common, classifier
from keras_segen.models.validation import check_choice, check_int


def _check_sequence(builder, argument, values, power_of_two=False):
    if not isinstance(values, (tuple, list)) or not values:
        raise ValueError(f"{builder}: {argument} must be a non-empty tuple; got {values!r}.")
    for value in values:
        check_int(builder, f"every entry of {argument}", value)
        if power_of_two and value & (value - 1):
            raise ValueError(
                f"{builder}: every entry of {argument} must be a power of two; got {values!r}."
            )
    return tuple(values)


def reseg(
    input_shape=(None, None, 3),
    num_classes=2,
    stem_filters=(64, 128),
    renet_units=(100, 100),
    patch_sizes=(2, 1),
    cell="gru",
    upsampling_filters=100,
    activation=None,
    name="reseg",
):
    """Builds ReSeg.

    Visin et al., "ReSeg: A Recurrent Neural Network-based Model for Semantic
    Segmentation", CVPR Workshops 2016. A small VGG-style CNN stem extracts local features;
    each ReNet layer then reads the map as non-overlapping patches and sweeps a
    bidirectional GRU or LSTM over every row and then over every column, so that every
    position sees the whole image; transposed convolutions bring the result back to the
    input resolution.

    Args:
        input_shape: ``(H, W, C)``; fixed H and W must be multiples of the total stride
            ``2 ** len(stem_filters) * prod(patch_sizes)``.
        num_classes: number of output classes.
        stem_filters: width of each stem block (two 3x3 convolutions and 2x2 pooling).
        renet_units: hidden units per direction of each ReNet layer.
        patch_sizes: patch size of each ReNet layer (powers of two).
        cell: ``"gru"`` or ``"lstm"``.
        upsampling_filters: width of the transposed convolutions (stride 2 each).
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` to ``(B, H, W, num_classes)``.

    Example:
        >>> model = keras_segen.reseg((128, 128, 3), num_classes=4, cell="lstm")
        >>> model.output_shape  # logits at input resolution
        (None, 128, 128, 4)
    """
    builder = "reseg"
    stem_filters = _check_sequence(builder, "stem_filters", stem_filters)
    renet_units = _check_sequence(builder, "renet_units", renet_units)
    patch_sizes = _check_sequence(builder, "patch_sizes", patch_sizes, power_of_two=True)
    if len(patch_sizes) != len(renet_units):
        raise ValueError(
            f"{builder}: patch_sizes and renet_units need one entry per ReNet layer; got "
            f"{len(patch_sizes)} and {len(renet_units)}."
        )
    check_choice(builder, "cell", cell, tuple(CELLS))
    check_int(builder, "upsampling_filters", upsampling_filters)
    stride = 2 ** len(stem_filters) * math.prod(patch_sizes)
    input_shape = check_common(builder, input_shape, num_classes, activation, stride)

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for block, width in enumerate(stem_filters, start=1):
        x = conv_bn_act(x, width, name=f"stem{block}_conv1")
        x = conv_bn_act(x, width, name=f"stem{block}_conv2")
        x = layers.MaxPooling2D(2, name=f"stem{block}_pool")(x)
    for index, (units, patch_size) in enumerate(zip(renet_units, patch_sizes), start=1):
        if patch_size > 1:
            x = PatchesToChannels(patch_size, name=f"renet{index}_patches")(x)
        x = ReNetSweep(units, cell, "horizontal", name=f"renet{index}_rows")(x)
        x = ReNetSweep(units, cell, "vertical", name=f"renet{index}_columns")(x)
    for index in range(1, int(math.log2(stride)) + 1):
        x = layers.Conv2DTranspose(
            upsampling_filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            name=f"upsample{index}",
        )(x)
    return keras.Model(inputs, classifier(x, num_classes, activation), name=name)


PAPER = (
    "Visin et al., ReSeg: A Recurrent Neural Network-based Model for Semantic Segmentation, "
    "CVPR Workshops 2016"
)
# No "paper" preset yet: the paper's frozen VGG16 stem and 1x1 patches are not expressible.
PRESETS = {
    "reseg": {
        "edge": {
            "description": "narrow stem (16, 32) and 32-unit GRU sweeps at 256x256 "
            "(float exports: recurrent layers have no int8 kernels)",
            "config": {
                "input_shape": (256, 256, 3), "num_classes": 11, "stem_filters": (16, 32),
                "renet_units": (32, 32), "upsampling_filters": 32,
            },
        },
        "tiny": {
            "description": "one 8-filter stem block and one 8-unit ReNet layer at 32x32 (tests)",
            "config": {
                "input_shape": (32, 32, 3), "num_classes": 3, "stem_filters": (8,),
                "renet_units": (8,), "patch_sizes": (2,), "upsampling_filters": 8,
            },
        },
    },
}  # fmt: skip
