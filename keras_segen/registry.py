"""Model registry: name -> builder, in the manner of timm's ``create_model``."""

import dataclasses
import inspect

TASKS = ("segmentation", "generation")
_MODELS = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered builder with the task it serves and the paper it implements."""

    name: str
    task: str
    paper: str
    builder: object

    @property
    def summary(self):
        """First line of the builder's docstring."""
        return (inspect.getdoc(self.builder) or "").splitlines()[0]

    @property
    def defaults(self):
        """Keyword arguments of the builder with their default values."""
        parameters = inspect.signature(self.builder).parameters.values()
        return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def register_model(task, paper, name=None):
    """Decorator that registers a builder under ``name`` (default: the function's name).

    Example:
        >>> @keras_segen.register_model("segmentation", paper="Me et al. 2026")
        ... def my_net(input_shape=(None, None, 3), num_classes=2):  # a one-layer segmenter
        ...     inputs = keras.Input(input_shape)
        ...     return keras.Model(inputs, keras.layers.Conv2D(num_classes, 1)(inputs))
        >>> keras_segen.get_model("my_net", num_classes=3).output_shape
        (None, None, None, 3)
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")

    def decorate(builder):
        key = name or builder.__name__
        if key in _MODELS:
            raise ValueError(f"A model named {key!r} is already registered.")
        _MODELS[key] = ModelEntry(key, task, paper, builder)
        return builder

    return decorate


def list_models(task=None):
    """Sorted names of the registered models, optionally only those of ``task``.

    Example:
        >>> keras_segen.list_models("segmentation")
        ['deeplabv3_plus', 'fcn', 'reseg', 'segnet', 'unet']
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None or one of {TASKS}; got {task!r}.")
    return sorted(key for key, entry in _MODELS.items() if task in (None, entry.task))


def model_entry(name):
    """The ``ModelEntry`` of a registered model; unknown names raise ``ValueError``.

    Example:
        >>> entry = keras_segen.model_entry("unet")
        >>> entry.task, entry.paper
        ('segmentation', 'Ronneberger, Fischer & Brox, U-Net: ... MICCAI 2015')
    """
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; registered models: {', '.join(list_models())}.")
    return _MODELS[name]


def get_model(name, **kwargs):
    """Builds the registered model ``name`` with the builder's keyword arguments.

    Example:
        >>> model = keras_segen.get_model("unet", input_shape=(128, 128, 3), num_classes=4)
        >>> model.output_shape
        (None, 128, 128, 4)
    """
    return model_entry(name).builder(**kwargs)
