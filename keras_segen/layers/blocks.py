"""Functional building blocks: each takes a tensor and returns a tensor."""

from keras import layers

from keras_segen.layers.resize import ResizeLike


def conv_bn_act(
    x,
    filters,
    kernel_size=3,
    strides=1,
    dilation_rate=1,
    padding="same",
    batch_norm=True,
    activation="relu",
    kernel_initializer="glorot_uniform",
    use_bias=None,
    name="conv",
):
    """Conv2D -> optional BatchNorm -> activation; layers are named ``{name}_conv`` etc.

    The convolution has a bias only without BatchNorm, unless ``use_bias`` says otherwise.

    Example:
        >>> inputs = keras.Input((64, 64, 3))
        >>> x = keras_segen.layers.conv_bn_act(inputs, 16, name="block1")
        >>> x.shape, [layer.name for layer in keras.Model(inputs, x).layers[1:]]
        ((None, 64, 64, 16), ['block1_conv', 'block1_bn', 'block1_relu'])
    """
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        dilation_rate=dilation_rate,
        padding=padding,
        use_bias=not batch_norm if use_bias is None else use_bias,
        kernel_initializer=kernel_initializer,
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    if activation:
        x = layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def separable_conv_bn_act(x, filters, kernel_size=3, strides=1, dilation_rate=1, name="sepconv"):
    """Depthwise conv -> BN -> ReLU -> pointwise conv -> BN -> ReLU (DeepLabV3+ style).

    Example:
        >>> inputs = keras.Input((32, 32, 64))
        >>> keras_segen.layers.separable_conv_bn_act(inputs, 128, dilation_rate=6).shape
        (None, 32, 32, 128)
    """
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        dilation_rate=dilation_rate,
        padding="same",
        use_bias=False,
        name=f"{name}_depthwise",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_depthwise_bn")(x)
    x = layers.ReLU(name=f"{name}_depthwise_relu")(x)
    return conv_bn_act(x, filters, kernel_size=1, name=f"{name}_pointwise")


def atrous_spatial_pyramid_pooling(x, filters=256, rates=(6, 12, 18), dropout=0.1, name="aspp"):
    """ASPP of DeepLabV3/V3+ (Chen et al. 2017, 2018).

    Five parallel branches on the backbone output: a 1x1 convolution, one atrous separable
    3x3 convolution per rate, and image-level pooling (global average -> 1x1 conv ->
    resized back); concatenated and projected by a 1x1 convolution.

    Example:
        >>> backbone_features = keras.Input((16, 16, 320))
        >>> keras_segen.layers.atrous_spatial_pyramid_pooling(backbone_features, filters=256).shape
        (None, 16, 16, 256)
    """
    branches = [conv_bn_act(x, filters, kernel_size=1, name=f"{name}_1x1")]
    for rate in rates:
        branches.append(
            separable_conv_bn_act(x, filters, dilation_rate=rate, name=f"{name}_rate{rate}")
        )
    pooled = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_image_pool")(x)
    pooled = conv_bn_act(pooled, filters, kernel_size=1, name=f"{name}_image_pool")
    branches.append(ResizeLike(name=f"{name}_image_pool_resize")([pooled, x]))
    x = layers.Concatenate(name=f"{name}_concat")(branches)
    x = conv_bn_act(x, filters, kernel_size=1, name=f"{name}_projection")
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x
