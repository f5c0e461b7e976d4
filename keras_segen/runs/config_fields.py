"""How a run configuration field is declared (``option``), the choices of its options, and
the check that a value is one of them; ``keras_segen.runs.config`` holds the fields."""

import dataclasses
import typing

AUGMENTATIONS = ("none", "geometric", "colour", "all")
SCHEDULES = ("cosine", "constant")
STRATEGIES = ("mirrored", "multiworker", "data_parallel")
PIPELINES = ("auto", "tf.data", "numpy")
FID_FEATURES = ("auto", "shapes", "inception", "none")
ON_BAD = ("raise", "skip")
# keras_segen.losses.SEGMENTATION_LOSSES, named here so that --help imports no Keras.
LOSSES = ("ce", "ce_dice", "dice", "focal", "jaccard", "tversky")
SEMI_METHODS = ("adversarial", "self-training")
SEMI_PERTURBATIONS = ("none", "colour")


def check_choice(name, value, choices):
    """Raises a ValueError naming the option, the value and the choices when it is not one."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")


def option(default, help, choices=None, unit=None, resume=False):
    """A configuration field: its default and what ``--help`` says of it.

    Args:
        default: the default value (a list or dict default is copied per instance).
        help: one line for ``--help``.
        choices: accepted values, or ``(module, attribute)`` read lazily by the CLI.
        unit: shown after the default in ``--help`` (``"px"``, ``"images"``, ...).
        resume: the option may be given again with ``--resume`` (it changes the run).
    """
    metadata = dict(help=help, choices=choices, unit=unit, resume=resume)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


Size = typing.Union[int, tuple, None]
