"""Defaults a segmentation run picks from its data, so that small datasets train well.

On a few dozen images a run has few steps: the full-width model over-fits, and BatchNorm's
moving statistics (momentum 0.99) are still far from the data when training ends, so the
model scores well with batch statistics (training) and poorly in inference. Every value a
user leaves unset is chosen here from the number of training images and said at the start
of the run (``benchmarks/results/small_data.md`` measures the choices).
"""

import math

import keras

from keras_segen.trainers.schedules import CosineCycles

SMALL_DATA = 400  # training images below which the small-data defaults apply
MIN_STEPS = 300  # training steps a run with unset epochs gets, within MAX_AUTO_EPOCHS
MAX_AUTO_EPOCHS = 100
DEFAULT_EPOCHS = 10
FEW_STEPS = 150  # fewer total steps than this: warn


def batchnorm_momentum(total_steps):
    """Moving-average momentum whose memory fits the run: ``1 - 10 / total_steps`` within
    [0.5, 0.99], so that the initial statistics weigh less than ``e**-10`` at the end.

    Example:
        >>> from keras_segen.runs.defaults import batchnorm_momentum
        >>> batchnorm_momentum(300), batchnorm_momentum(30)
        (0.9667, 0.6667)
        >>> batchnorm_momentum(100_000)  # Keras' own default
        0.99
    """
    return round(min(0.99, max(0.5, 1.0 - 10.0 / max(total_steps, 1))), 4)


def set_batchnorm_momentum(model, momentum):
    """Sets the momentum of every BatchNormalization layer of ``model`` (nested models too);
    returns how many layers it set."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
            count += 1
        elif isinstance(layer, keras.Model):
            count += set_batchnorm_momentum(layer, momentum)
    return count


def choose_defaults(config, train_examples, presets, epoch_examples=None):
    """Fills the unset fields of a segmentation ``RunConfig`` from the training set size.

    Args:
        config: the ``RunConfig`` (changed in place).
        train_examples: number of training images, or ``None`` when unknown.
        presets: the model's preset names.
        epoch_examples: examples in an epoch when it is longer than the training set (a
            semi-supervised run's unlabelled pass); default ``train_examples``.

    Returns:
        Lines saying what was chosen and why (printed at the start of the run).
    """
    data, model, training = config.data, config.model, config.training
    small = train_examples is not None and train_examples < SMALL_DATA
    reason = f"{train_examples} training images" if small else None
    said = []
    if data.batch_size is None:
        data.batch_size = 8 if small else 16
        if small:
            said.append(f"batch size 8 ({reason}; --batch-size to change)")
    unchosen = model.preset is None and not model.model_kwargs and model.backbone is None
    if unchosen and small and "small" in presets:
        model.preset = "small"
        said.append(f"{model.model} preset 'small' ({reason}; --preset paper for the full width)")
    epoch_examples = train_examples if epoch_examples is None else epoch_examples
    steps = None if epoch_examples is None else math.ceil(epoch_examples / data.batch_size)
    if training.epochs is None:
        training.epochs = DEFAULT_EPOCHS
        if steps and steps * DEFAULT_EPOCHS < MIN_STEPS:
            training.epochs = min(MAX_AUTO_EPOCHS, math.ceil(MIN_STEPS / steps))
            said.append(
                f"{training.epochs} epochs ({steps} steps per epoch; --epochs to change)"
            )
    if training.learning_rate is None:
        training.learning_rate = 1e-3
    if model.batchnorm_momentum is None and steps:
        model.batchnorm_momentum = batchnorm_momentum(steps * training.epochs)
        if model.batchnorm_momentum < 0.99:
            said.append(
                f"BatchNorm momentum {model.batchnorm_momentum} ({steps * training.epochs} "
                "training steps, so that inference statistics settle)"
            )
    if steps and steps * training.epochs < FEW_STEPS:
        said.append(
            f"warning: only {steps * training.epochs} training steps ({steps} per epoch): "
            f"validation scores will lag training; train for at least "
            f"{math.ceil(FEW_STEPS / steps)} epochs (--epochs) or use a smaller --batch-size"
        )
    return said


def learning_rate_schedule(config, steps, factor=1.0):
    """The learning rate of a run: ``CosineCycles`` over its cycles (epochs x steps), times
    ``factor`` (the fine-tuning phase of a run on a pretrained encoder)."""
    training = config.training
    if steps is None:
        return training.learning_rate * factor
    cycle_epochs = config.resolved.get("cycle_epochs") or [training.epochs]
    return CosineCycles(
        training.learning_rate * factor,
        [epochs * steps for epochs in cycle_epochs],
        warmup_steps=training.warmup * steps,
        shape=training.schedule,
    )


def generalisation_warning(history, gap=0.2):
    """A warning line when the last epoch's validation mean IoU trails training by > ``gap``."""
    train, val = history.get("mean_iou"), history.get("val_mean_iou")
    if not train or not val or train[-1] - val[-1] <= gap:
        return None
    return (
        f"warning: validation mean IoU {val[-1]:.3f} trails training {train[-1]:.3f}: the "
        "model does not generalise to the validation data (more data or augmentation, a "
        "smaller model (--preset), or fewer epochs)"
    )
