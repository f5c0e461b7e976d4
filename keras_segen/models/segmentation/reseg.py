"""ReSeg (Visin et al., CVPR Workshops 2016), built on ReNet (Visin et al. 2015)."""

import math

import keras
from keras import layers

from keras_segen.layers import ImagenetPreprocessing, PatchesToChannels, ReNetSweep, conv_bn_act
from keras_segen.layers.renet import CELLS
from keras_segen.models.encoders import check_backbone
from keras_segen.models.encoders.applications import copy_weights
from keras_segen.models.encoders.own import vgg16_body
from keras_segen.models.segmentation.encoded import encode
from keras_segen.models.segmentation.head import check_common, classifier
from keras_segen.models.validation import check_choice, check_int, check_weights

STEMS = ("conv", "vgg16")
# The VGG16 stem of the paper ends at conv3_3, after two poolings.
VGG16_STEM_BLOCKS = 3


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
    stem="conv",
    stem_filters=(64, 128),
    weights=None,
    freeze_stem=True,
    backbone=None,
    backbone_kwargs=None,
    renet_units=(100, 100),
    patch_sizes=(2, 1),
    cell="gru",
    reset_after=True,
    upsampling_filters=100,
    upsampling_kernel_size=3,
    activation=None,
    name="reseg",
):
    """Builds ReSeg.

    Visin et al., "ReSeg: A Recurrent Neural Network-based Model for Semantic
    Segmentation", CVPR Workshops 2016. A CNN stem extracts local features; each ReNet
    layer then reads the map as non-overlapping patches and sweeps a bidirectional GRU or
    LSTM over every row and then over every column, so that every position sees the whole
    image; stride-2 transposed convolutions (ReLU) bring the result back to the input
    resolution and a 1x1 convolution gives the class scores.

    The ``paper`` preset is the CamVid network of the authors' ``evaluate_camvid.py``
    (fvisin/reseg): the frozen VGG16 ``conv1_1`` ... ``conv3_3`` stem (stride 4), two
    ReNet layers of 100 GRU units on 1x1 patches, two 2x2 stride-2 transposed
    convolutions with 50 filters, no BatchNorm, 12 outputs (11 classes and void) at
    360x480: 806,712 trainable and 1,735,488 frozen parameters. Lasagne's GRU applies the
    reset gate after the recurrent product with one bias; Keras has either that with two
    biases (``reset_after=True``) or the reset before the product with one bias (Cho et
    al.'s formulation); the preset takes the latter, which has the reference's parameter
    count. The defaults use a small trainable stem with BatchNorm instead.

    Args:
        input_shape: ``(H, W, C)``; fixed H and W must be multiples of the total stride
            (the stem's 2 per block, times ``prod(patch_sizes)``).
        num_classes: number of output classes.
        stem: ``"conv"`` (blocks of two 3x3 convolutions with BatchNorm and 2x2 pooling,
            ``stem_filters`` wide) or ``"vgg16"`` (VGG16's first three blocks up to
            ``conv3_3``, the paper's stem; images go through ImageNet "caffe" scaling).
        stem_filters: width of each ``"conv"`` stem block.
        weights: ``"vgg16"`` stem only: ``None``, ``"imagenet"`` (needs internet) or a
            local VGG16 weights file (Keras Applications format).
        freeze_stem: ``"vgg16"`` stem or a backbone: keep its weights fixed, as the paper
            does.
        backbone: any encoder of ``keras_segen.list_backbones()`` as the stem, in place of
            ``stem``: its stride-4 features (P2) feed the ReNet layers; ``weights`` then
            are the backbone's (``None``, ``"imagenet"`` or a weights file).
        backbone_kwargs: more arguments of ``keras_segen.encoder``.
        renet_units: hidden units per direction of each ReNet layer.
        patch_sizes: patch size of each ReNet layer (powers of two).
        cell: ``"gru"`` or ``"lstm"``.
        reset_after: GRU reset gate after (``True``) or before the recurrent product.
        upsampling_filters: width of the transposed convolutions: one int for all, or one
            per stride-2 layer.
        upsampling_kernel_size: their kernel size (3; 2 in the paper).
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
    check_choice(builder, "stem", stem, STEMS)
    stem_filters = _check_sequence(builder, "stem_filters", stem_filters)
    renet_units = _check_sequence(builder, "renet_units", renet_units)
    patch_sizes = _check_sequence(builder, "patch_sizes", patch_sizes, power_of_two=True)
    if len(patch_sizes) != len(renet_units):
        raise ValueError(
            f"{builder}: patch_sizes and renet_units need one entry per ReNet layer; got "
            f"{len(patch_sizes)} and {len(renet_units)}."
        )
    check_choice(builder, "cell", cell, tuple(CELLS))
    check_int(builder, "upsampling_kernel_size", upsampling_kernel_size)
    if backbone is not None:
        check_backbone(builder, backbone)
        stem_stride = 4
    elif stem == "vgg16":
        weights = check_weights(builder, weights)
        stem_stride = 2 ** (VGG16_STEM_BLOCKS - 1)
    elif weights is not None:
        raise ValueError(f"{builder}: weights need stem='vgg16'; got stem={stem!r}.")
    else:
        stem_stride = 2 ** len(stem_filters)
    stride = stem_stride * math.prod(patch_sizes)
    upsamplings = int(math.log2(stride))
    if isinstance(upsampling_filters, int):
        upsampling_filters = (upsampling_filters,) * upsamplings
    upsampling_filters = _check_sequence(builder, "upsampling_filters", upsampling_filters)
    if len(upsampling_filters) != upsamplings:
        raise ValueError(
            f"{builder}: upsampling_filters needs one width per stride-2 layer, {upsamplings} "
            f"for a total stride of {stride}; got {upsampling_filters!r}."
        )
    channels = 3 if weights and backbone is None else None
    input_shape = check_common(builder, input_shape, num_classes, activation, stride, channels)

    inputs = keras.Input(input_shape, name="image")
    if backbone is not None:
        options = dict(backbone_kwargs or {}, levels=("P2",))
        x = encode(inputs, backbone, weights, 32, freeze_stem, options)["P2"]
    elif stem == "vgg16":
        x = ImagenetPreprocessing("caffe", name="preprocessing")(inputs)
        x = vgg16_body(x, blocks=VGG16_STEM_BLOCKS, last_pool=False)[-1]
    else:
        x = inputs
        for block, width in enumerate(stem_filters, start=1):
            x = conv_bn_act(x, width, name=f"stem{block}_conv1")
            x = conv_bn_act(x, width, name=f"stem{block}_conv2")
            x = layers.MaxPooling2D(2, name=f"stem{block}_pool")(x)
    for index, (units, patch_size) in enumerate(zip(renet_units, patch_sizes), start=1):
        if patch_size > 1:
            x = PatchesToChannels(patch_size, name=f"renet{index}_patches")(x)
        for direction, part in (("horizontal", "rows"), ("vertical", "columns")):
            sweep = ReNetSweep(units, cell, direction, reset_after, name=f"renet{index}_{part}")
            x = sweep(x)
    for index, width in enumerate(upsampling_filters, start=1):
        x = layers.Conv2DTranspose(
            width,
            upsampling_kernel_size,
            strides=2,
            padding="same",
            activation="relu",
            name=f"upsample{index}",
        )(x)
    model = keras.Model(inputs, classifier(x, num_classes, activation), name=name)
    if stem == "vgg16" and backbone is None:
        if weights:
            vgg = keras.applications.VGG16(include_top=False, weights=weights)
            copy_weights(vgg, model, missing_ok=True)
        for layer in model.layers:
            if layer.name.startswith("block"):
                layer.trainable = not freeze_stem
    return model


PAPER = (
    "Visin et al., ReSeg: A Recurrent Neural Network-based Model for Semantic Segmentation, "
    "CVPR Workshops 2016"
)
PRESETS = {
    "reseg": {
        "paper": {
            "description": "CamVid network of evaluate_camvid.py: frozen VGG16 stem to conv3_3, "
            "two ReNet layers of 100 GRU units on 1x1 patches, two 2x2 transposed convs of 50, "
            "12 outputs (11 classes + void) at 360x480",
            "config": {
                "input_shape": (360, 480, 3), "num_classes": 12, "stem": "vgg16",
                "freeze_stem": True, "renet_units": (100, 100), "patch_sizes": (1, 1),
                "cell": "gru", "reset_after": False, "upsampling_filters": (50, 50),
                "upsampling_kernel_size": 2,
            },
        },
        "edge": {
            "description": "narrow stem (16, 32) and 32-unit GRU sweeps at 256x256 "
            "(int8 exports unroll the sweeps)",
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
