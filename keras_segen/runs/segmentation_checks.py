"""Checks of a segmentation run's configuration, made before any data is read."""

from keras_segen import losses
from keras_segen.data.arrays import resolve_pipeline
from keras_segen.registry import model_entry
from keras_segen.runs.config_fields import AUGMENTATIONS, SCHEDULES, check_choice
from keras_segen.runs.encoder_training import check_encoder_options
from keras_segen.runs.lifecycle import check_new_run
from keras_segen.runs.semi_supervised import check_semi_config


def check_segmentation_config(config):
    """Refuses a segmentation configuration that cannot train, before any data is read."""
    data, model, training = config.data, config.model, config.training
    check_new_run(config.output.out, training.epochs)
    entry = model_entry(model.model)
    if entry.task != "segmentation":
        raise ValueError(
            f"train() trains segmentation models; {model.model!r} is {entry.task} (use "
            "train_generation / `keras-segen train-gan`)."
        )
    entry.config(model.preset)  # raises for an unknown preset
    check_encoder_options(config, entry)
    losses.segmentation_loss(training.loss)  # raises for an unknown name
    check_choice("schedule", training.schedule, SCHEDULES)
    data.pipeline = resolve_pipeline(data.pipeline)
    if isinstance(data.augment, bool):
        data.augment = "all" if data.augment else "none"
    if data.augment is None:
        data.augment = "none" if data.pipeline == "numpy" else "geometric"
    check_choice("augment", data.augment, AUGMENTATIONS)
    if not isinstance(training.warmup, int) or training.warmup < 0:
        raise ValueError(f"warmup must be a number of epochs >= 0; got {training.warmup!r}.")
    if training.epochs is not None and training.warmup >= training.epochs:
        raise ValueError(
            f"warmup ({training.warmup} epochs) must be shorter than the run "
            f"({training.epochs} epochs)."
        )
    if (data.synthetic is None) != (not data.synthetic_ratio):
        raise ValueError(
            "synthetic and synthetic_ratio go together: give a folder of generated pairs and "
            f"a ratio in (0, 1); got synthetic={data.synthetic!r}, "
            f"synthetic_ratio={data.synthetic_ratio!r}."
        )
    if data.pipeline == "numpy" and data.augment != "none":
        raise ValueError(
            f"augment={data.augment!r} needs the tf.data pipeline (TensorFlow); pass "
            "augment='none' (--augment none) to train with pipeline='numpy'."
        )
    check_semi_config(config)
