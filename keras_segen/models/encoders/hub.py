"""keras-hub backbones with ``pyramid_outputs`` ("P1".."P5") behind the encoder seam.

keras-hub is an optional extra: a ``Backbone`` object (built from a config or from a
preset with ``keras_hub.models.Backbone.from_preset``) is passed as ``backbone``; its
weights come with it. Its images are scaled as its ``ImageConverter`` says
(``preprocessing=(scale, offset)``, per channel or one number: ``x * scale + offset`` of
an image in [0, 255] / 255... as keras-hub defines them, for an image in [0, 1]).
"""

import keras


def is_hub_backbone(backbone):
    """Whether ``backbone`` is a keras-hub-style model with a ``pyramid_outputs`` dict."""
    return isinstance(getattr(backbone, "pyramid_outputs", None), dict)


def hub_encoder(backbone, input_shape, weights, output_stride, freeze, name, scale=1.0,
                offset=0.0):  # fmt: skip
    """An encoder over a keras-hub backbone: ``x * scale + offset`` on the [0, 1] image, then
    the backbone, returning its ``pyramid_outputs``."""
    from keras_segen.models.encoders.graph import dilate

    if weights is not None:
        raise ValueError(
            "a keras-hub Backbone carries its own weights (Backbone.from_preset(...)); "
            f"weights must be None; got {weights!r}."
        )
    pyramid = keras.Model(backbone.inputs, dict(backbone.pyramid_outputs))
    if output_stride != 32:
        config = dilate(pyramid.get_config(), output_stride)
        dilated = keras.Model.from_config(config)
        dilated.set_weights(pyramid.get_weights())
        pyramid = dilated
    image = keras.Input(tuple(input_shape), name="image")
    x = keras.layers.Rescaling(scale, offset, name="preprocessing")(image)
    model = keras.Model(image, pyramid(x), name=name or f"{backbone.name}_encoder")
    model.trainable = not freeze
    return model
