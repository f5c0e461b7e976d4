"""One encoder seam: ``encoder(backbone, ...)`` -> a model from an image in [0, 1] to the
feature pyramid ``{"P1": stride 2, ..., "P5": stride 32}`` (keras-hub's convention).

Behind it: every CNN of ``keras.applications`` by its constructor's name in lower case,
the library's own encoders (``vgg16`` with a width knob, ``unet``, ``light``) and
keras-hub backbones that have ``pyramid_outputs``. The taps, the output stride and the
preprocessing are found by one rule for all of them (``keras_segen.models.encoders.graph``).
"""

import keras
import numpy as np

from keras_segen.layers import ImagenetPreprocessing
from keras_segen.models.encoders.applications import (
    application_constructors,
    build_application,
    copy_weights,
    preprocessing_mode,
)
from keras_segen.models.encoders.graph import (
    dilate,
    endpoint_names,
    needed_layers,
    pyramid_taps,
)
from keras_segen.models.encoders.hub import hub_encoder, is_hub_backbone
from keras_segen.models.encoders.own import OWN_ENCODERS, own_network
from keras_segen.models.validation import check_choice, check_input_shape, check_weights

__all__ = ["check_backbone", "encoder", "freeze_encoder", "list_backbones"]
ENCODER_LAYER = "encoder"  # the name a segmentation model gives its encoder
LEVELS = ("P1", "P2", "P3", "P4", "P5")


def list_backbones():
    """Every backbone name ``encoder`` accepts: the library's own, then Keras Applications.

    Example:
        >>> names = keras_segen.list_backbones()
        >>> names[:3], "resnet50" in names, "efficientnetv2b0" in names, len(names) > 40
        (['light', 'unet', 'vgg16'], True, True, True)
    """
    return sorted(OWN_ENCODERS) + sorted(set(application_constructors()) - set(OWN_ENCODERS))


def check_backbone(builder, backbone):
    """Accepts a name of ``list_backbones()``, a keras-hub backbone or ``"keras_hub:PRESET"``."""
    if not is_hub_backbone(backbone):
        check_choice(builder, "backbone", backbone, tuple(list_backbones()))
    return backbone


def _network(backbone, input_shape, weights, kwargs):
    """``(functional network at 3 channels with its weights, preprocessing mode)``."""
    if backbone in OWN_ENCODERS:
        _, mode, loadable, _ = OWN_ENCODERS[backbone]
        unknown = set(kwargs) - {"filters"}
        if unknown:
            raise TypeError(f"encoder {backbone!r} takes filters=, not {sorted(unknown)}.")
        network = own_network(backbone, input_shape, kwargs.get("filters"))
        if weights is not None:
            if not loadable:
                raise ValueError(f"encoder {backbone!r} has no pretrained weights; "
                                 "use weights=None.")  # fmt: skip
            constructor = application_constructors()[backbone]
            pretrained = build_application(backbone, constructor, input_shape, weights)
            copy_weights(pretrained, network)
        return network, mode
    constructors = application_constructors()
    check_choice("encoder", "backbone", backbone, tuple(list_backbones()))
    constructor = constructors[backbone]
    network = build_application(backbone, constructor, input_shape, weights, **kwargs)
    return network, preprocessing_mode(constructor)


def _with_channels(config, channels):
    """Gives the network's input ``channels``; 3-channel constants before the first
    convolution (EfficientNet's per-channel rescaling) become their mean. Layers are left to
    build on their new inputs (their recorded build shapes say 3 channels)."""
    for layer in config["layers"]:
        layer.pop("build_config", None)
    for layer in config["layers"]:
        settings = layer["config"]
        if layer["class_name"] == "InputLayer":
            settings["batch_shape"] = [*settings["batch_shape"][:-1], channels]
        elif layer["class_name"] == "Sequential":  # ConvNeXt's stem
            settings["build_input_shape"] = [*settings["build_input_shape"][:-1], channels]
            _with_channels(settings, channels)
            break
        elif "kernel_size" in settings:
            break
        for key in ("scale", "offset", "mean", "variance"):
            value = settings.get(key)
            if isinstance(value, (list, tuple)) and len(value) == 3:
                settings[key] = [sum(value) / 3] * channels
    return config


def _with_preprocessing(config, mode, channels):
    """Inserts ``ImagenetPreprocessing(mode)`` right after the input layer."""
    input_name = endpoint_names(config["input_layers"])[0]
    for layer in config["layers"]:
        _rename_inputs(layer.get("inbound_nodes", []), input_name, "preprocessing")
    entry = keras.saving.serialize_keras_object(ImagenetPreprocessing(mode, name="preprocessing"))
    history = {"shape": [None, None, None, channels], "dtype": "float32",
               "keras_history": [input_name, 0, 0]}  # fmt: skip
    entry["name"] = "preprocessing"
    entry["inbound_nodes"] = [
        {"args": [{"class_name": "__keras_tensor__", "config": history}], "kwargs": {}}
    ]
    position = next(i for i, layer in enumerate(config["layers"]) if layer["name"] == input_name)
    config["layers"].insert(position + 1, entry)
    return config


def _rename_inputs(value, old, new):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = list(value["config"]["keras_history"])
            if history[0] == old:
                value["config"]["keras_history"] = [new, *history[1:]]
            return
        for item in value.values():
            _rename_inputs(item, old, new)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _rename_inputs(item, old, new)


def encoder(backbone, input_shape=(None, None, 3), weights=None, output_stride=32,
            freeze=False, levels=None, taps=None, name=None, **backbone_kwargs):  # fmt: skip
    """A backbone as a feature-pyramid encoder of images in [0, 1].

    The backbone's ImageNet preprocessing is the encoder's first layer, so the encoder
    (and every model built on it) takes images in [0, 1], as the rest of the library.
    Each level "Pn" is the last layer at stride ``2**n`` (``graph.pyramid_taps``); P5 is
    the application's ``include_top=False`` output. Networks with a stride-4 stem
    (ConvNeXt) have no P1.

    Args:
        backbone: a name from ``list_backbones()`` (every ``keras.applications`` CNN in
            lower case, e.g. ``"resnet50"``, ``"efficientnetv2b0"``, ``"convnexttiny"``;
            the library's ``"vgg16"`` (``filters=`` width), ``"unet"``, ``"light"``), a
            keras-hub ``Backbone`` with ``pyramid_outputs`` (it gets the [0, 1] image), or
            ``"keras_hub:PRESET"`` (a preset name or local folder, its image scaling inside).
        input_shape: ``(H, W, C)``; H and W may be ``None``. Pretrained weights are adapted
            to 1 or N channels as segmentation_models.pytorch does (``adapt_channels``).
        weights: ``None`` (random), ``"imagenet"`` (Keras' download and cache) or the path
            of a weights file of the ``include_top=False`` network.
        output_stride: 32, or 16 / 8: the last stages are dilated instead of strided
            (``graph.dilate``); P4 and P5 then come at ``output_stride``.
        freeze: make the encoder non-trainable (its BatchNorm then runs in inference mode).
        levels: the levels to return (e.g. ``("P1", "P2", "P3")``); the layers that only
            deeper levels need are left out of the model. Default: all.
        taps: ``{level: layer name}`` in place of the rule's choice (e.g. DeepLab's
            authors' taps on MobileNetV2).
        name: model name (default ``"{backbone}_encoder"``).
        **backbone_kwargs: passed to the constructor (``alpha=`` of MobileNets,
            ``filters=`` of the library's encoders).

    Returns:
        A functional ``keras.Model`` whose output is the dict ``{"P1": ..., "P5": ...}``.

    Example:
        >>> model = keras_segen.encoder("resnet50", (64, 64, 3))
        >>> {level: tuple(x.shape[1:]) for level, x in model.output.items()}
        {'P1': (32, 32, 64), 'P2': (16, 16, 256), 'P3': (8, 8, 512), 'P4': (4, 4, 1024),
         'P5': (2, 2, 2048)}
    """
    if is_hub_backbone(backbone):
        return hub_encoder(backbone, input_shape, weights, output_stride, freeze, name, levels)
    check_choice("encoder", "output_stride", output_stride, (8, 16, 32))
    deepest = max(int(level[1:]) for level in levels) if levels else 5
    stride = min(output_stride, 2**deepest)
    input_shape = check_input_shape(f"encoder {backbone!r}", input_shape, stride=stride)
    weights = check_weights(f"encoder {backbone!r}", weights)
    channels = input_shape[-1]
    network, mode = _network(backbone, (*input_shape[:2], 3), weights, backbone_kwargs)
    config = network.get_config()
    taps = _chosen_taps(backbone, config, levels, taps)
    if output_stride != 32:
        dilate(config, output_stride)
    if channels != 3:
        _with_channels(config, channels)
    if mode is not None:
        _with_preprocessing(config, mode, channels)
    config["output_layers"] = {level: [layer, 0, 0] for level, layer in taps.items()}
    needed = needed_layers(config)
    config["layers"] = [layer for layer in config["layers"] if layer["name"] in needed]
    config["name"] = name or f"{backbone}_encoder"
    try:
        model = keras.Model.from_config(config)
        if output_stride != 32:  # run once: shapes that only clash at run time
            model(np.zeros((1, *[size or 224 for size in input_shape[:2]], channels), "float32"))
    except Exception as error:  # NASNet's cropped reduction cells at output stride 8
        if output_stride == 32:
            raise
        raise ValueError(
            f"encoder {backbone!r} cannot be dilated to output_stride {output_stride}: its "
            f"branches' sizes no longer match ({type(error).__name__}); use a larger "
            "output_stride."
        ) from None
    copy_weights(network, model, channels if channels != 3 else None, missing_ok=True)
    if freeze:
        freeze_encoder(model)
    return model


def _chosen_taps(backbone, config, levels, taps):
    """The rule's taps, restricted to ``levels`` and overridden by ``taps``."""
    chosen = pyramid_taps(config)
    names = {layer["name"] for layer in config["layers"]}
    for level, layer in (taps or {}).items():
        check_choice(f"encoder {backbone!r}", "taps level", level, LEVELS)
        if layer not in names:
            raise ValueError(f"encoder {backbone!r} has no layer {layer!r} (taps[{level!r}]).")
        chosen[level] = layer
    if levels is not None:
        for level in levels:
            if level not in chosen:
                raise ValueError(f"encoder {backbone!r} has no level {level!r}; it has "
                                 f"{sorted(chosen)}.")  # fmt: skip
        chosen = {level: chosen[level] for level in levels}
    return dict(sorted(chosen.items()))


def freeze_encoder(model, frozen=True):
    """Freezes (or unfreezes) an encoder, or the encoder inside a segmentation model: its
    weights stop training and its BatchNorm layers run in inference mode.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), 2, backbone="light", decoder_filters=(8,) * 5)
        >>> trainable = len(model.trainable_weights)
        >>> _ = keras_segen.freeze_encoder(model)
        >>> model.get_layer("encoder").trainable, len(model.trainable_weights) < trainable
        (False, True)
    """
    target = model
    if ENCODER_LAYER in {layer.name for layer in model.layers}:
        target = model.get_layer(ENCODER_LAYER)
    target.trainable = not frozen
    return model
