"""The backbone catalogue: each encoder's parameters, feature widths and preprocessing,
measured by building it once (``python -m keras_segen.models.backbone_catalogue`` rewrites
``backbone_catalogue.json``), so that ``keras-segen list --backbones`` prints it without
building 40 networks or importing Keras (this module imports them only to measure)."""

import json
import os

CATALOGUE = os.path.join(os.path.dirname(__file__), "backbone_catalogue.json")
# The size every backbone is measured at (Inception and Xception need 75 pixels or more).
PROBE_SIZE = 96


def describe_backbone(name):
    """``{"family", "parameters", "widths": {"P1": channels, ...}, "preprocessing",
    "imagenet"}`` of one backbone, measured by building its encoder (random weights)."""
    import keras

    from keras_segen.models.encoders import encoder
    from keras_segen.models.encoders.applications import (
        application_constructors,
        application_family,
    )
    from keras_segen.models.encoders.own import OWN_ENCODERS

    model = encoder(name, (PROBE_SIZE, PROBE_SIZE, 3))
    layers = {layer.name: layer for layer in model.layers}
    preprocessing = layers["preprocessing"].mode if "preprocessing" in layers else "none"
    if name in OWN_ENCODERS:
        family, imagenet = "keras_segen", OWN_ENCODERS[name][2]
    else:
        family, imagenet = application_family(application_constructors()[name]), True
    description = {
        "family": family,
        "parameters": int(model.count_params()),
        "widths": {level: int(x.shape[-1]) for level, x in model.output.items()},
        "preprocessing": preprocessing,
        "imagenet": imagenet,
    }
    keras.backend.clear_session()
    return description


def read_catalogue():
    """``{backbone name: description}`` as stored in ``backbone_catalogue.json``."""
    with open(CATALOGUE) as file:
        return json.load(file)


def write_catalogue(names=None):
    """Measures ``names`` (default: every backbone) and rewrites ``backbone_catalogue.json``."""
    from keras_segen.models.encoders import list_backbones

    catalogue = {name: describe_backbone(name) for name in names or list_backbones()}
    with open(CATALOGUE, "w") as file:
        json.dump(catalogue, file, indent=1, sort_keys=True)
        file.write("\n")
    return catalogue


if __name__ == "__main__":
    write_catalogue()
