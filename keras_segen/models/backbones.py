"""Encoders shared by the segmentation builders.

``vgg16_encoder`` is the VGG16 convolutional body (Simonyan & Zisserman 2015) with a width
knob. ``application_encoder`` wraps a Keras Applications network (MobileNetV2, ResNet50) as
a multi-output feature extractor, optionally with atrous convolution in place of its last
strides (Chen et al. 2017), so that its deepest features have a chosen output stride.
"""

import re

import keras
from keras import layers

from keras_segen.models.validation import check_choice

# (number of 3x3 convolutions, width as a multiple of the base width) per VGG16 block.
VGG16_BLOCKS = ((2, 1), (2, 2), (3, 4), (3, 8), (3, 8))


def vgg16_encoder(x, filters=64, blocks=5, last_pool=True):
    """Runs the VGG16 conv body on ``x``; returns the outputs of ``block{1..blocks}_pool``.

    Without ``last_pool`` the last block ends at its last convolution (e.g. ``conv3_3``
    for ``blocks=3``). Layer names are those of ``keras.applications.VGG16`` so that its
    weights can be copied by name (see ``copy_weights_by_name``).
    """
    pools = []
    for block, (convs, multiple) in enumerate(VGG16_BLOCKS[:blocks], start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(
                filters * multiple,
                3,
                padding="same",
                activation="relu",
                name=f"block{block}_conv{conv}",
            )(x)
        if last_pool or block < blocks:
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        pools.append(x)
    return pools


def copy_weights_by_name(source, target, missing_ok=False):
    """Copies the weights of every layer of ``source`` into the same-named layer of ``target``.

    With ``missing_ok`` the layers of ``source`` that ``target`` lacks are skipped.
    """
    names = {layer.name for layer in target.layers}
    for layer in source.layers:
        if not layer.weights or (missing_ok and layer.name not in names):
            continue
        destination = target.get_layer(layer.name)
        for src, dst in zip(layer.weights, destination.weights):
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(
                    f"Cannot load pretrained weights into layer {layer.name!r}: shape "
                    f"{tuple(src.shape)} does not fit {tuple(dst.shape)}. Pretrained weights "
                    "need the backbone's original widths (e.g. filters=64 for VGG16)."
                )
        destination.set_weights(layer.get_weights())


def _mobilenet_v2(input_shape, weights, alpha):
    return keras.applications.MobileNetV2(
        input_shape=input_shape, include_top=False, weights=weights, alpha=alpha
    )


def _resnet50(input_shape, weights, alpha):
    if alpha != 1.0:
        raise ValueError(f"alpha applies to MobileNetV2 only; got alpha={alpha} for resnet50.")
    return keras.applications.ResNet50(input_shape=input_shape, include_top=False, weights=weights)


# For each backbone: constructor, ImageNet preprocessing mode, the layer that ends each
# output stride, the layers whose stride 2 produces output strides 16 and 32, and the
# layers DeepLab's reference code (tensorflow/models research/deeplab/core/
# feature_extractor.py) feeds to its decoder (stride 4) and to ASPP: MobileNetV2's
# 'layer_4/depthwise_output' and 'layer_18', ResNet-50's 'block1/unit_2/bottleneck_v1/conv3'
# (before the residual addition) and the last block.
APPLICATIONS = {
    "mobilenetv2": {
        "build": _mobilenet_v2,
        "preprocessing": "tf",
        "features": {8: "block_5_add", 16: "block_12_add", 32: "out_relu"},
        "stride_blocks": {16: "block_6", 32: "block_13"},
        "deeplab_taps": ("block_2_depthwise_relu", "block_16_project_BN"),
    },
    "resnet50": {
        "build": _resnet50,
        "preprocessing": "caffe",
        "features": {
            8: "conv3_block4_out",
            16: "conv4_block6_out",
            32: "conv5_block3_out",
        },
        "stride_blocks": {16: "conv4", 32: "conv5"},
        "deeplab_taps": ("conv2_block2_3_bn", "conv5_block3_out"),
    },
}


def _block_of(backbone, layer_name):
    """Block index of a layer (MobileNetV2 ``block_7_*`` -> 7, ResNet ``conv4_*`` -> 4)."""
    pattern = r"block_(\d+)_" if backbone == "mobilenetv2" else r"conv(\d)_"
    match = re.match(pattern, layer_name)
    return int(match.group(1)) if match else None


def _dilate_config(backbone, config, output_stride):
    """Rewrites a functional config so that the network's deepest stride is ``output_stride``.

    Each removed stride-2 layer becomes stride 1, and every 3x3 convolution after it is
    dilated by the accumulated factor (the atrous algorithm of DeepLab). MobileNetV2 puts
    the stride on the 3x3 depthwise convolution of its first block, which keeps the old
    rate (with symmetric padding), while ResNet50 strides a 1x1 convolution, so the whole
    stage gets the new rate.
    """
    spec = APPLICATIONS[backbone]
    removed = [s for s in (16, 32) if s > output_stride]
    starts = {_block_of(backbone, spec["stride_blocks"][s] + "_") for s in removed}
    for layer in config["layers"]:
        name, layer_config = layer["config"]["name"], layer["config"]
        block = _block_of(backbone, name)
        if block is None:
            continue
        rate_before = 2 ** sum(block > start for start in starts)
        rate_after = 2 ** sum(block >= start for start in starts)
        if backbone == "mobilenetv2":
            if block in starts and name.endswith(("_depthwise", "_pad")):
                if name.endswith("_pad"):
                    layer_config["padding"] = ((rate_before,) * 2, (rate_before,) * 2)
                else:
                    layer_config["strides"] = (1, 1)
                    layer_config["dilation_rate"] = (rate_before, rate_before)
            elif name.endswith("_depthwise") and rate_before > 1:
                layer_config["dilation_rate"] = (rate_before, rate_before)
        else:
            if block in starts and re.fullmatch(r"conv\d_block1_[01]_conv", name):
                layer_config["strides"] = (1, 1)
            elif name.endswith("_2_conv") and rate_after > 1:
                layer_config["dilation_rate"] = (rate_after, rate_after)
    return config


def application_encoder(
    builder,
    backbone,
    input_shape,
    weights=None,
    strides=(8, 16, 32),
    output_stride=32,
    alpha=1.0,
    layer_names=None,
):
    """A Keras Applications network as a model returning features at ``strides``.

    Args:
        builder: builder name used in error messages.
        backbone: ``"mobilenetv2"`` or ``"resnet50"``.
        input_shape: ``(H, W, 3)``; H and W may be ``None``.
        weights: ``None``, ``"imagenet"`` (needs internet) or a local weights file of the
            include_top=False network.
        strides: nominal strides (8, 16 or 32) of the features to return; with a smaller
            ``output_stride`` the deeper ones come out at ``output_stride``.
        output_stride: 8, 16 or 32; strides beyond it are replaced by dilation.
        alpha: MobileNetV2 width multiplier.
        layer_names: the layers to return instead of the ends of ``strides``.

    Returns:
        A ``keras.Model`` named ``{backbone}_encoder`` that takes the backbone's
        preprocessed input (see ``APPLICATIONS[backbone]["preprocessing"]``).
    """
    check_choice(builder, "backbone", backbone, tuple(APPLICATIONS))
    check_choice(builder, "output_stride", output_stride, (8, 16, 32))
    spec = APPLICATIONS[backbone]
    network = spec["build"](input_shape, weights, alpha)
    if output_stride != 32:
        config = _dilate_config(backbone, network.get_config(), output_stride)
        dilated = keras.Model.from_config(config)
        dilated.set_weights(network.get_weights())
        network = dilated
    names = layer_names or [spec["features"][s] for s in strides]
    outputs = [network.get_layer(name).output for name in names]
    return keras.Model(network.inputs, outputs, name=f"{backbone}_encoder")
