"""The library's own encoders, as functional networks the encoder seam taps like any other.

``vgg16`` is VGG16's convolutional body with a width knob and Keras' layer names (so its
ImageNet weights load by name), ``unet`` U-Net's contracting path continued to stride 32,
``light`` the small Xception-style encoder of ``deeplabv3_plus``.
"""

import keras
from keras import layers

from keras_segen.layers import conv_bn_act, separable_conv_bn_act
from keras_segen.models.validation import check_int

# (number of 3x3 convolutions, width as a multiple of the base width) per VGG16 block.
VGG16_BLOCKS = ((2, 1), (2, 2), (3, 4), (3, 8), (3, 8))
# Width multiples of the four strided stages of the light encoder (strides 4, 8, 16, 32).
LIGHT_STAGES = (2, 4, 8, 16)


def vgg16_body(x, filters=64, blocks=5, last_pool=True):
    """Runs the VGG16 conv body on ``x``; returns the outputs of ``block{1..blocks}_pool``.

    Without ``last_pool`` the last block ends at its last convolution. Layer names are
    those of ``keras.applications.VGG16``, so its weights copy by name.
    """
    pools = []
    for block, (convs, multiple) in enumerate(VGG16_BLOCKS[:blocks], start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(filters * multiple, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{conv}")(x)  # fmt: skip
        if last_pool or block < blocks:
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        pools.append(x)
    return pools


def unet_body(x, filters=64):
    """U-Net's contracting path (two 3x3 conv-BN-ReLU per level, 2x2 max pooling between,
    the width doubling up to 16 times ``filters``) from stride 1 to stride 32."""
    for level in range(6):
        if level:
            x = layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
        width = filters * 2 ** min(level, 4)
        for index in (1, 2):
            x = conv_bn_act(x, width, kernel_initializer="he_normal",
                            name=f"encoder{level + 1}_conv{index}")  # fmt: skip
    return x


def light_body(x, filters=32):
    """The light encoder: a strided stem, then four stages of a strided 1x1 shortcut plus
    two separable convolutions (the first strided), at strides 4, 8, 16 and 32."""
    x = conv_bn_act(x, filters, strides=2, name="stem")
    for stage, multiple in enumerate(LIGHT_STAGES, start=1):
        width = filters * multiple
        shortcut = conv_bn_act(x, width, kernel_size=1, strides=2, activation=None,
                               name=f"stage{stage}_shortcut")  # fmt: skip
        y = separable_conv_bn_act(x, width, strides=2, name=f"stage{stage}_sep1")
        y = separable_conv_bn_act(y, width, name=f"stage{stage}_sep2")
        x = layers.Add(name=f"stage{stage}_add")([shortcut, y])
    return x


# name -> (body, preprocessing mode, ImageNet-loadable, its width argument's default)
OWN_ENCODERS = {
    "vgg16": (lambda x, filters: vgg16_body(x, filters)[-1], "caffe", True, 64),
    "unet": (unet_body, None, False, 64),
    "light": (light_body, None, False, 32),
}


def own_network(name, input_shape, filters=None):
    """One of ``OWN_ENCODERS`` as a functional model from its (preprocessed) input."""
    body, _, _, default = OWN_ENCODERS[name]
    filters = default if filters is None else filters
    check_int(f"encoder {name!r}", "filters", filters)
    inputs = keras.Input(tuple(input_shape), name="image")
    return keras.Model(inputs, body(inputs, filters), name=name)
