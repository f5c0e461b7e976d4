"""Option parsing shared by the commands: sizes, JSON, lazy choices, and the options of the
training commands generated from the run configuration (``keras_segen.runs.config``)."""

import argparse
import dataclasses
import importlib
import json
import typing

from keras_segen.runs.config import SECTIONS, section_fields


class LazyChoices:
    """``choices`` for argparse read from ``module.attribute`` when first needed.

    Building the parser imports nothing heavy; the module is imported only when an option
    with these choices is parsed or its help is shown. Give such an option a ``metavar``
    (argparse lists the choices in the metavar otherwise) and ``%(choices)s`` in its help.
    """

    def __init__(self, module, attribute):
        self.module, self.attribute = module, attribute

    def _values(self):
        values = getattr(importlib.import_module(self.module), self.attribute)
        return tuple(value for value in values if value is not None)

    def __contains__(self, value):
        return value in self._values()

    def __iter__(self):
        return iter(self._values())


def parse_size(text):
    """``"HxW"``, ``"S"`` or ``"none"`` -> ``(H, W)``."""
    if text.lower() == "none":
        return None, None
    parts = text.lower().split("x")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes, default=0) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW, S or none; got {text!r}")
    return (sizes[0], sizes[-1])


def single_size(text):
    """``"HxW"`` or ``"S"`` -> ``S`` or ``(H, W)``; ``none`` is refused."""
    height, width = parse_size(text)
    if height is None:
        raise argparse.ArgumentTypeError("a fixed size is needed here")
    return height if height == width else (height, width)


def json_object(text):
    """A JSON object given on the command line, e.g. ``'{"filters": 16}'``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object such as '{\"filters\": 16}'")
    return value


def _value_type(annotation, name):
    """The argparse ``type`` of a field from its annotation (``Optional[X]`` -> ``X``)."""
    if name == "image_size":
        return single_size
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = arguments[0] if arguments else annotation
    return {int: int, float: float, dict: json_object}.get(base, str)


def _help(field, default):
    meta = field.metadata
    text = meta["help"].replace("%", "%%")
    if default is None or default == {}:
        return text
    unit = f" {meta['unit']}" if meta["unit"] else ""
    shown = ("on" if default else "off") if isinstance(default, bool) else default
    return f"{text} (default: {shown}{unit})"


def add_config_options(parser, task, defaults=None):
    """Adds one option per field of the ``task``'s ``RunConfig``, grouped by section.

    Options left out of the command line are absent from the parsed namespace
    (``argparse.SUPPRESS``), so the configuration's own defaults apply; ``--help`` shows
    them. ``defaults`` overrides a field's default for this command (e.g. ``out``).
    """
    defaults = defaults or {}
    groups = {
        section: parser.add_argument_group(f"{section} options")
        for section in SECTIONS[task]
    }
    hints = {}
    for cls in SECTIONS[task].values():
        hints.update(typing.get_type_hints(cls))
    for name, (section, field) in section_fields(task).items():
        meta = field.metadata
        default = defaults.get(name, _field_default(field))
        flag = "--" + name.replace("_", "-")
        kwargs = dict(dest=name, default=argparse.SUPPRESS, help=_help(field, default))
        if hints[name] is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _value_type(hints[name], name)
            choices = meta["choices"]
            if choices:
                lazy = isinstance(choices[0], str) and choices[0].startswith("keras_segen.")
                kwargs["choices"] = LazyChoices(*choices) if lazy else choices
                if lazy:  # argparse would import the module to show the choices otherwise
                    kwargs["metavar"] = name.upper()
                    kwargs["help"] += ": %(choices)s"
        groups[section].add_argument(flag, **kwargs)


def _field_default(field):
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()


def config_options(args, task):
    """``{field: value}`` of the configuration options given on the command line."""
    return {name: getattr(args, name) for name in section_fields(task) if hasattr(args, name)}


def resume_options(options, task, run_dir):
    """The options ``--resume`` accepts (fields marked ``resume``); others are an error."""
    fields = section_fields(task)
    refused = sorted(name for name in options if not fields[name][1].metadata["resume"])
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        allowed = ", ".join(
            "--" + name.replace("_", "-") for name, (_, field) in fields.items()
            if field.metadata["resume"]
        )  # fmt: skip
        raise ValueError(
            f"--resume {run_dir} continues the run with its own settings; {flags} cannot "
            f"change (only {allowed} can). Start a new run to change them."
        )
    return options


def add_output_options(parser, progress=True):
    """``--verbose`` (what the library prints) and, for training, ``--progress`` (Keras')."""
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1,
        help="0: errors only; 1: chosen defaults, warnings and results; 2: also "
        "TensorFlow's own log lines (default: 1)",
    )  # fmt: skip
    if progress:
        parser.add_argument(
            "--progress", type=int, choices=(0, 1, 2), default=2,
            help="training progress: 0 none, 1 a progress bar, 2 a line per epoch (default: 2)",
        )  # fmt: skip
