"""SegNet (Badrinarayanan, Kendall & Cipolla, TPAMI 2017)."""

import keras

from keras_segen.layers import (
    ImagenetPreprocessing,
    MaskUnpooling2D,
    MaxPoolingWithArgmax2D,
    MaxPoolingWithMask2D,
    MaxUnpooling2D,
    conv_bn_act,
)
from keras_segen.models.encoders.own import VGG16_BLOCKS
from keras_segen.models.segmentation.head import check_common, classifier
from keras_segen.models.validation import check_choice, check_int, check_weights


def segnet(
    input_shape=(None, None, 3),
    num_classes=2,
    filters=64,
    use_bias=False,
    activation=None,
    unpooling="indices",
    backbone="vgg16",
    weights=None,
    name="segnet",
):
    """Builds SegNet.

    Badrinarayanan et al., "SegNet: A Deep Convolutional Encoder-Decoder Architecture for
    Image Segmentation", TPAMI 2017. The encoder is the 13 convolutions of VGG16 (each
    followed by BatchNorm and ReLU) in five blocks, each ending in 2x2 max pooling that
    records the position of every maximum. The decoder mirrors it: each block first
    max-unpools with the recorded positions of its encoder block (sparse upsampling, no
    learned upsampling), then densifies with convolutions. A 3x3 convolution gives the
    class scores. Odd sizes pool their last row or column alone and unpool back to the
    encoder's size, as the authors' Caffe model does (``upsample_h``/``upsample_w``), so
    the ``paper`` preset takes CamVid's 360x480 frames whole (45 -> 23 -> 12 rows).

    The ``paper`` preset is the authors' ``segnet_train.prototxt`` (SegNet-Tutorial,
    CamVid): 11 classes, every convolution with a bias (``use_bias=True``) before its
    BatchNorm: 29,449,355 trainable parameters. By default the biases are dropped, since
    the BatchNorm that follows cancels them.

    Args:
        input_shape: ``(H, W, C)``; H and W may be ``None`` (then multiples of 32 at run
            time).
        num_classes: number of output classes.
        filters: base width (64 in the paper; widths are 1, 2, 4, 8, 8 times it).
        use_bias: biases on the convolutions followed by BatchNorm (the reference has them).
        activation: ``None`` (logits), ``"softmax"`` or ``"sigmoid"``.
        unpooling: ``"indices"`` (the paper: each window's argmax position, an integer) or
            ``"mask"`` (``MaxPoolingWithMask2D``: a 0/1 mask of the maxima, operators that
            TFLite's XNNPACK delegate runs in int8; ties give the value to every tied
            position; even sizes only). One XNNPACK partition instead of one per
            convolution run, but in our measurement it trained worse and int8 rounding
            creates ties; see docs/export.md.
        backbone: ``"vgg16"`` only: the decoder unpools with the positions recorded by
            its own encoder's pools, so no other encoder fits.
        weights: ``None``, ``"imagenet"`` or a VGG16 (include_top=False) weights file: its
            13 convolutions initialise the encoder's, as the paper did (biases only with
            ``use_bias``; ``filters`` must be 64); images then go through VGG16's "caffe"
            preprocessing, inside the model.
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, H, W, C)`` to ``(B, H, W, num_classes)``.

    Example:
        >>> model = keras_segen.segnet((256, 256, 3), num_classes=12)
        >>> model.output_shape  # logits at input resolution
        (None, 256, 256, 12)
    """
    builder = "segnet"
    check_int(builder, "filters", filters)
    check_choice(builder, "backbone", backbone, ("vgg16",))
    weights = check_weights(builder, weights)
    channels = 3 if weights else None
    input_shape = check_common(builder, input_shape, num_classes, activation, channels=channels)
    if unpooling not in ("indices", "mask"):
        raise ValueError(f"{builder}: unpooling must be 'indices' or 'mask'; got {unpooling!r}.")
    pooling_layer = MaxPoolingWithMask2D if unpooling == "mask" else MaxPoolingWithArgmax2D

    inputs = keras.Input(input_shape, name="image")
    x = ImagenetPreprocessing("caffe", name="preprocessing")(inputs) if weights else inputs
    pooling_indices, sizes = [], []
    for block, (convs, multiple) in enumerate(VGG16_BLOCKS, start=1):
        for index in range(1, convs + 1):
            x = conv_bn_act(
                x, filters * multiple, use_bias=use_bias, name=f"encoder{block}_conv{index}"
            )
        sizes.append(tuple(x.shape[1:3]))
        x, indices = pooling_layer(name=f"encoder{block}_pool")(x)
        pooling_indices.append(indices)

    for block in range(len(VGG16_BLOCKS), 0, -1):
        convs, multiple = VGG16_BLOCKS[block - 1]
        size = sizes[block - 1]
        odd = None not in size and (size[0] % 2 or size[1] % 2)
        if unpooling == "mask":
            unpool = MaskUnpooling2D(name=f"decoder{block}_unpool")
        else:
            unpool = MaxUnpooling2D(size if odd else None, name=f"decoder{block}_unpool")
        x = unpool([x, pooling_indices[block - 1]])
        # The last convolution of a decoder block narrows to the next block's width; in
        # block 1 the classifier takes that place.
        widths = [filters * multiple] * (convs - 1)
        if block > 1:
            widths.append(filters * VGG16_BLOCKS[block - 2][1])
        for conv, width in zip(range(convs, 0, -1), widths):
            x = conv_bn_act(x, width, use_bias=use_bias, name=f"decoder{block}_conv{conv}")
    model = keras.Model(inputs, classifier(x, num_classes, activation, kernel_size=3), name=name)
    if weights:
        load_vgg16_convolutions(model, weights)
    return model


def load_vgg16_convolutions(model, weights):
    """Copies VGG16's 13 convolutions (``block{b}_conv{i}``) into SegNet's encoder
    (``encoder{b}_conv{i}_conv``): kernels, and biases where SegNet has them."""
    vgg = keras.applications.VGG16(include_top=False, weights=weights)
    for block, (convs, _) in enumerate(VGG16_BLOCKS, start=1):
        for index in range(1, convs + 1):
            kernel, bias = vgg.get_layer(f"block{block}_conv{index}").get_weights()
            target = model.get_layer(f"encoder{block}_conv{index}_conv")
            if tuple(target.kernel.shape) != kernel.shape:
                raise ValueError(
                    f"segnet: VGG16's block{block}_conv{index} {kernel.shape} does not fit "
                    f"{tuple(target.kernel.shape)}; pretrained weights need filters=64."
                )
            target.set_weights([kernel, bias][: len(target.weights)])


PAPER = (
    "Badrinarayanan, Kendall & Cipolla, SegNet: A Deep Convolutional Encoder-Decoder "
    "Architecture for Image Segmentation, TPAMI 2017"
)
PRESETS = {
    "segnet": {
        "paper": {
            "description": "VGG16 encoder with biases before BN, 11 CamVid classes on whole "
            "360x480 frames (SegNet-Tutorial segnet_train.prototxt)",
            "config": {"input_shape": (360, 480, 3), "num_classes": 11, "use_bias": True},
        },
        "edge": {
            "description": "16 base filters at 256x256, int8-friendly",
            "config": {"input_shape": (256, 256, 3), "num_classes": 11, "filters": 16},
        },
        "tiny": {
            "description": "4 base filters at 32x32, 3 classes (tests)",
            "config": {"input_shape": (32, 32, 3), "num_classes": 3, "filters": 4},
        },
    },
}  # fmt: skip
