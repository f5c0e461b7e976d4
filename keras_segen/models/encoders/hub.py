"""keras-hub backbones with ``pyramid_outputs`` ("P1".."P5") behind the encoder seam.

keras-hub is an optional extra (``pip install keras_segen[hub]``). A backbone is either a
``keras_hub.models.Backbone`` object (built from a config; it gets the [0, 1] image as it
is) or ``"keras_hub:PRESET"``, a preset name or a local preset folder loaded with
``Backbone.from_preset``, whose ``ImageConverter`` (when the preset has one) scales the
image as keras-hub would from ``[0, 255]``.
"""

import keras

HUB_PREFIX = "keras_hub:"


def is_hub_backbone(backbone):
    """Whether ``backbone`` is a keras-hub backbone or a ``"keras_hub:PRESET"`` string."""
    if isinstance(backbone, str):
        return backbone.startswith(HUB_PREFIX)
    return isinstance(getattr(backbone, "pyramid_outputs", None), dict)


def _from_preset(preset):
    """``(backbone, scale, offset)`` of a keras-hub preset (scale and offset from [0, 1])."""
    try:
        import keras_hub
    except ImportError:
        raise ValueError(
            f"{HUB_PREFIX}{preset} needs keras-hub: pip install 'keras_segen[hub]'."
        ) from None
    try:
        backbone = keras_hub.models.Backbone.from_preset(preset)
    except Exception as error:
        raise ValueError(
            f"Could not load the keras-hub preset {preset!r}: {error}. Offline, pass a local "
            "preset folder (Backbone.save_to_preset) as 'keras_hub:/path/to/folder'."
        ) from None
    try:
        converter = keras_hub.layers.ImageConverter.from_preset(preset)
    except Exception:  # a preset without an image converter: [0, 255] as it is
        return backbone, 255.0, 0.0
    scale = 1.0 if converter.scale is None else converter.scale
    offset = 0.0 if converter.offset is None else converter.offset
    scale = [255.0 * s for s in scale] if isinstance(scale, (list, tuple)) else 255.0 * scale
    return backbone, scale, offset


def hub_encoder(backbone, input_shape, weights, output_stride, freeze, name, levels=None):
    """An encoder over a keras-hub backbone returning its ``pyramid_outputs`` (``levels``
    of them, if given)."""
    from keras_segen.models.encoders.graph import dilate

    if weights is not None:
        raise ValueError(
            "a keras-hub backbone carries its own weights ('keras_hub:PRESET' or "
            f"Backbone.from_preset); weights must be None; got {weights!r}."
        )
    scale, offset = 1.0, 0.0
    if isinstance(backbone, str):
        backbone, scale, offset = _from_preset(backbone[len(HUB_PREFIX) :])
    outputs = dict(backbone.pyramid_outputs)
    missing = sorted(set(levels or ()) - set(outputs))
    if missing:
        raise ValueError(f"keras-hub backbone {backbone.name!r} has no level {missing[0]!r}; "
                         f"it has {sorted(outputs)}.")  # fmt: skip
    outputs = {level: outputs[level] for level in levels} if levels else outputs
    pyramid = keras.Model(backbone.inputs, outputs)
    if output_stride != 32:
        dilated = keras.Model.from_config(dilate(pyramid.get_config(), output_stride))
        dilated.set_weights(pyramid.get_weights())
        pyramid = dilated
    image = keras.Input(tuple(input_shape), name="image")
    x = keras.layers.Rescaling(scale, offset, name="preprocessing")(image)
    model = keras.Model(image, pyramid(x), name=name or f"{backbone.name}_encoder")
    model.trainable = not freeze
    return model
