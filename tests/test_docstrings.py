"""Every public function and class says what it does and shows how to call it."""

import inspect

import pytest

import keras_segen

MODULES = (
    "",
    "classical",
    "data",
    "export",
    "layers",
    "losses",
    "metrics",
    "pipelines",
    "training",
    "viz",
)


def _public(module):
    """``(qualified name, object)`` of the module's public functions and classes."""
    names = getattr(module, "__all__", None)
    if names is None:  # a plain module: what it defines itself
        names = [
            name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        ]  # fmt: skip
    for name in names:
        value = getattr(module, name)
        if callable(value) and not inspect.ismodule(value):
            yield f"{module.__name__}.{name}", value


PUBLIC = dict(
    item
    for suffix in MODULES
    for item in _public(getattr(keras_segen, suffix) if suffix else keras_segen)
)


def test_the_public_api_is_large_enough_to_mean_something():
    assert len(PUBLIC) > 100


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_with_an_example(name):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Example" in doc and ">>> " in doc, f"{name}: the docstring has no Example section"
