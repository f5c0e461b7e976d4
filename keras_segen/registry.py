"""Model registry: name -> builder + presets, in the manner of timm and keras-hub.

Each builder module declares ``PAPER`` and ``PRESETS`` (``{builder: {preset: {"description",
"config"}}}``) beside its builders. The registry reads those, and the builders' docstrings
and defaults, from the modules' source without importing them, so listing and describing
models imports neither Keras nor TensorFlow; a module is imported when a model is built.
"""

import ast
import dataclasses
import importlib
import inspect
import os

TASKS = ("segmentation", "generation")
BUILTIN_MODULES = {
    "keras_segen.models.segmentation.fcn": "segmentation",
    "keras_segen.models.segmentation.unet": "segmentation",
    "keras_segen.models.segmentation.segnet": "segmentation",
    "keras_segen.models.segmentation.deeplab": "segmentation",
    "keras_segen.models.segmentation.reseg": "segmentation",
    "keras_segen.models.segmentation.fpn": "segmentation",
    "keras_segen.models.segmentation.pspnet": "segmentation",
    "keras_segen.models.segmentation.linknet": "segmentation",
    "keras_segen.models.segmentation.unet_plus_plus": "segmentation",
    "keras_segen.models.generation.dcgan": "generation",
    "keras_segen.models.generation.vae": "generation",
    "keras_segen.models.generation.cgan": "generation",
    "keras_segen.models.generation.pix2pix": "generation",
    "keras_segen.models.generation.spade": "generation",
    "keras_segen.models.generation.label_map_discriminator": "generation",
    "keras_segen.models.generation.confidence_discriminator": "generation",
}
_MODELS = {}
_BUILTINS_READ = []


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named argument set of a builder: ``paper``, ``edge``, ``tiny``, ..."""

    name: str
    description: str
    config: dict


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered builder: task, paper, presets, docstring summary and defaults.

    ``source`` is the builder itself, or the name of the module that defines it (built-in
    models, imported on first use of ``builder``).
    """

    name: str
    task: str
    paper: str
    presets: dict
    summary: str
    defaults: dict
    source: object

    @property
    def builder(self):
        """The builder function (imports its module for built-in models)."""
        if callable(self.source):
            return self.source
        return getattr(importlib.import_module(self.source), self.name)

    def config(self, preset=None, **overrides):
        """The builder arguments of ``preset`` (none: the defaults) updated by ``overrides``."""
        if preset is None:
            return dict(overrides)
        if preset not in self.presets:
            known = ", ".join(self.presets) or "none"
            raise ValueError(f"{self.name} has no preset {preset!r}; its presets: {known}.")
        return {**self.presets[preset].config, **overrides}


def _presets(table):
    return {
        name: Preset(name, spec["description"], dict(spec["config"]))
        for name, spec in table.items()
    }


def _first_line(docstring):
    return next(iter((docstring or "").splitlines()), "")


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def _static_entries(module, task):
    """The entries declared by a builder module, read from its source."""
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, *module.split(".")[1:]) + ".py"
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read(), filename=path)
    values, functions = {}, {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("PAPER", "PRESETS"):
                values[target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.FunctionDef):
            functions[node.name] = node
    entries = []
    for name, table in values["PRESETS"].items():
        function = functions[name]
        arguments = function.args
        named = arguments.args[len(arguments.args) - len(arguments.defaults) :]
        defaults = {arg.arg: _literal(node) for arg, node in zip(named, arguments.defaults)}
        summary = _first_line(ast.get_docstring(function))
        entries.append(
            ModelEntry(name, task, values["PAPER"], _presets(table), summary, defaults, module)
        )
    return entries


def _registry():
    if not _BUILTINS_READ:
        _BUILTINS_READ.append(True)
        for module, task in BUILTIN_MODULES.items():
            for entry in _static_entries(module, task):
                _MODELS.setdefault(entry.name, entry)
    return _MODELS


def register_model(task, paper, name=None, presets=None):
    """Decorator that registers a builder under ``name`` (default: the function's name).

    ``presets`` maps preset names to ``{"description": ..., "config": {...}}``.

    Example:
        >>> @keras_segen.register_model("segmentation", paper="Me et al. 2026", presets={
        ...     "tiny": {"description": "3 classes", "config": {"num_classes": 3}}})
        ... def my_net(input_shape=(None, None, 3), num_classes=2):
        ...     '''A one-layer segmenter.'''
        ...     inputs = keras.Input(input_shape)
        ...     return keras.Model(inputs, keras.layers.Conv2D(num_classes, 1)(inputs))
        >>> keras_segen.get_model("my_net", preset="tiny").output_shape
        (None, None, None, 3)
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")

    def decorate(builder):
        key = name or builder.__name__
        if key in _registry():
            raise ValueError(f"A model named {key!r} is already registered.")
        parameters = inspect.signature(builder).parameters.values()
        defaults = {
            p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty
        }
        summary = _first_line(inspect.getdoc(builder))
        _MODELS[key] = ModelEntry(
            key, task, paper, _presets(presets or {}), summary, defaults, builder
        )
        return builder

    return decorate


def list_models(task=None):
    """Sorted names of the registered models, optionally only those of ``task``.

    Example:
        >>> keras_segen.list_models("segmentation")
        ['deeplabv3_plus', 'fcn', 'fpn', 'linknet', 'pspnet', 'reseg', 'segnet', 'unet',
         'unet_plus_plus']
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None or one of {TASKS}; got {task!r}.")
    return sorted(key for key, entry in _registry().items() if task in (None, entry.task))


def model_entry(name):
    """The ``ModelEntry`` of a registered model; unknown names raise ``ValueError``.

    Example:
        >>> entry = keras_segen.model_entry("unet")
        >>> entry.task, entry.paper
        ('segmentation', 'Ronneberger, Fischer & Brox, U-Net: ... MICCAI 2015')
    """
    models = _registry()
    if name not in models:
        raise ValueError(f"Unknown model {name!r}; registered models: {', '.join(list_models())}.")
    return models[name]


def list_presets(name):
    """The preset names of a registered model, in the order its module declares them.

    Example:
        >>> keras_segen.list_presets("unet")
        ['paper', 'edge', 'small', 'tiny']
    """
    return list(model_entry(name).presets)


def get_model(name, preset=None, **overrides):
    """Builds the registered model ``name``: ``preset``'s arguments updated by ``overrides``.

    Example:
        >>> model = keras_segen.get_model("unet", input_shape=(128, 128, 3), num_classes=4)
        >>> model.output_shape
        (None, 128, 128, 4)
        >>> keras_segen.get_model("unet", preset="paper").output_shape  # the paper's 572 -> 388
        (None, 388, 388, 2)
        >>> keras_segen.get_model("unet", preset="tiny", num_classes=5).output_shape
        (None, 32, 32, 5)
    """
    entry = model_entry(name)
    return entry.builder(**entry.config(preset, **overrides))
