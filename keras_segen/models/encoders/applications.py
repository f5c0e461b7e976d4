"""Keras Applications CNNs as encoders: names, ImageNet preprocessing, weights, channels.

Every CNN of ``keras.applications`` is available by its constructor's name in lower case
(``ResNet50V2`` -> ``"resnet50v2"``). Its ImageNet preprocessing follows from the module
that defines it (``keras.applications.<module>.preprocess_input``), so no per-network
table is kept.
"""

import os
import re
import warnings

import numpy as np

# The preprocess_input mode of each keras.applications module ("raw": the network
# normalises its [0, 255] input itself).
MODULE_PREPROCESSING = {
    "convnext": "raw", "densenet": "torch", "efficientnet": "raw", "efficientnet_v2": "raw",
    "inception_resnet_v2": "tf", "inception_v3": "tf", "mobilenet": "tf", "mobilenet_v2": "tf",
    "mobilenet_v3": "raw", "nasnet": "tf", "resnet": "caffe", "resnet50": "caffe",
    "resnet_v2": "tf", "vgg16": "caffe", "vgg19": "caffe", "xception": "tf",
}  # fmt: skip


def application_constructors():
    """``{lower-case name: keras.applications constructor}`` for every CNN Keras ships."""
    import keras

    constructors = {}
    for name in dir(keras.applications):
        constructor = getattr(keras.applications, name)
        if name[:1].isupper() and callable(constructor):
            constructors[name.lower()] = constructor
    return constructors


def application_family(constructor):
    """The ``keras.applications`` module that defines ``constructor`` (``"resnet_v2"``)."""
    return constructor.__module__.rsplit(".", 1)[-1]


def preprocessing_mode(constructor):
    """``ImagenetPreprocessing`` mode of an application (its ``preprocess_input``)."""
    return MODULE_PREPROCESSING[application_family(constructor)]


def keras_cache_dir():
    """The folder where Keras keeps downloaded application weights."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "models")


def build_application(name, constructor, input_shape, weights, **kwargs):
    """``constructor(include_top=False, ...)`` with ``weights`` (``None``, ``"imagenet"`` or
    a weights file); a failed download becomes an error naming the file and the cache."""
    try:
        with warnings.catch_warnings():  # non-square / non-default sizes load 224's weights
            warnings.simplefilter("ignore")
            return constructor(
                include_top=False, weights=weights, input_shape=tuple(input_shape), **kwargs
            )
    except Exception as error:
        url = re.search(r"https?://\S+?\.h5", str(error))
        if weights != "imagenet" or url is None:
            raise
        file = url.group(0).rsplit("/", 1)[-1]
        raise ValueError(
            f"Could not download the ImageNet weights of {name!r} ({url.group(0)}): {error}. "
            f"Offline, copy that file, {file}, into {keras_cache_dir()} (Keras' cache), or "
            "pass weights= the path of a local copy."
        ) from None


def adapt_channels(array, channels):
    """A pretrained weight with 3 input channels (axis -2 of a kernel, or a per-channel
    vector) adapted to ``channels``, as segmentation_models.pytorch's ``patch_first_conv``
    does: 1 channel sums the three; N channels repeat them cyclically, scaled by 3 / N.

    Example:
        >>> kernel = np.arange(6, dtype="float32").reshape(1, 1, 3, 2)
        >>> adapt_channels(kernel, 1)[0, 0].tolist()
        [[6.0, 9.0]]
        >>> adapt_channels(np.array([1.0, 2.0, 3.0]), 2).tolist()  # a statistic: averaged
        [2.0, 2.0]
    """
    if array.ndim == 1:
        return np.full((channels,), array.mean(), array.dtype)
    if channels == 1:
        return array.sum(axis=-2, keepdims=True)
    repeated = np.take(array, np.arange(channels) % array.shape[-2], axis=-2)
    return (repeated * (array.shape[-2] / channels)).astype(array.dtype)


def copy_weights(source, target, channels=None, missing_ok=False):
    """Copies every layer's weights from ``source`` to the same-named layer of ``target``;
    with ``channels``, weights whose shape differs on the input-channel axis are adapted
    (``adapt_channels``); with ``missing_ok``, layers ``target`` lacks are skipped."""
    names = {layer.name for layer in target.layers}
    for layer in source.layers:
        if not layer.weights or (missing_ok and layer.name not in names):
            continue
        destination = target.get_layer(layer.name)
        values = []
        for weight, value in zip(destination.weights, layer.get_weights()):
            shape = tuple(weight.shape)
            if value.shape != shape and channels is not None:
                value = adapt_channels(value, channels)
            if value.shape != shape:
                raise ValueError(
                    f"Cannot load the weights of layer {layer.name!r}: shape {value.shape} does "
                    f"not fit {shape}. Pretrained weights need the backbone's own widths "
                    "(e.g. filters=64 for VGG16)."
                )
            values.append(value)
        destination.set_weights(values)
