"""Segmentation runs on a pretrained encoder: the ``backbone`` and ``weights`` a builder
gets, and the frozen-encoder phase (``freeze_epochs``) before fine-tuning every layer at
``fine_tune_factor`` times the learning rate, as segmentation_models' tutorials do."""

import os

from keras_segen.models.encoders import ENCODER_LAYER, check_backbone, freeze_encoder


def check_encoder_options(config, entry):
    """Refuses backbone, weights and freeze options the model cannot take, before training."""
    model, training = config.model, config.training
    takes = set(entry.defaults)
    if model.backbone is not None:
        if "backbone" not in takes:
            raise ValueError(f"{model.model} takes no backbone; models that do: unet, fcn, "
                             "deeplabv3_plus, fpn, pspnet, linknet, unet_plus_plus.")  # fmt: skip
        check_backbone("train", model.backbone)
    if model.weights is not None:
        if "weights" not in takes:
            raise ValueError(f"{model.model} takes no pretrained weights.")
        if model.weights != "imagenet" and not os.path.isfile(model.weights):
            raise ValueError(
                f"weights must be 'imagenet' or a weights file; {model.weights!r} does not exist."
            )
    if not isinstance(training.freeze_epochs, int) or training.freeze_epochs < 0:
        raise ValueError(
            f"freeze_epochs must be a number of epochs >= 0; got {training.freeze_epochs!r}."
        )
    if training.freeze_epochs and model.backbone is None:
        raise ValueError("freeze_epochs freezes an encoder: give a backbone (e.g. resnet50).")
    if training.epochs is not None and training.freeze_epochs >= training.epochs > 0:
        raise ValueError(
            f"freeze_epochs ({training.freeze_epochs}) must be shorter than the run "
            f"({training.epochs} epochs): the encoder is fine-tuned after it."
        )
    if not 0 < training.fine_tune_factor <= 1:
        raise ValueError(
            f"fine_tune_factor must be in (0, 1]; got {training.fine_tune_factor!r}."
        )


def encoder_arguments(config):
    """The builder arguments the run's backbone options give."""
    model = config.model
    arguments = {"backbone": model.backbone} if model.backbone is not None else {}
    if model.weights is not None:
        arguments["weights"] = model.weights
    return arguments


def has_encoder(model):
    return ENCODER_LAYER in {layer.name for layer in model.layers}


def learning_rate_factor(config, network):
    """``fine_tune_factor`` once a run with ``freeze_epochs`` has unfrozen its encoder."""
    if not config.training.freeze_epochs or not has_encoder(network):
        return 1.0
    frozen = not network.get_layer(ENCODER_LAYER).trainable
    return 1.0 if frozen else config.training.fine_tune_factor


def freeze_for_epoch(network, config, epoch):
    """Freezes the encoder for the epochs before ``freeze_epochs`` and unfreezes it after;
    returns whether that changed anything (then the model must be compiled again)."""
    if not config.training.freeze_epochs or not has_encoder(network):
        return False
    frozen = epoch < config.training.freeze_epochs
    if network.get_layer(ENCODER_LAYER).trainable != frozen:
        return False
    freeze_encoder(network, frozen)
    return True
