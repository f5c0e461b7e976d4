"""Every public function and class says what it does and shows how to call it, and the
example runs: each docstring's ``>>>`` lines are executed as a doctest in an empty
working directory, with only ``keras``, ``np`` (NumPy), ``tf`` and ``keras_segen``
imported, so what a user copies from a docstring works as written."""

import doctest
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen import registry

MODULES = (
    "",
    "classical",
    "data",
    "export",
    "inference",
    "layers",
    "losses",
    "metrics",
    "pipelines",
    "quantization",
    "runs",
    "trainers",
    "viz",
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


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
# Each object once, under its shortest public name (``keras_segen.train``, not
# ``keras_segen.runs.train``).
UNIQUE = {id(value): name for name, value in sorted(PUBLIC.items(), key=lambda item: -len(item[0]))}


def test_the_public_api_is_large_enough_to_mean_something():
    assert len(UNIQUE) > 100


@pytest.mark.parametrize("name", sorted(UNIQUE.values()))
def test_docstring_has_an_example_that_runs(name, tmp_path, monkeypatch):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Example:" in doc, f"{name}: the docstring has no Example section"
    monkeypatch.chdir(tmp_path)
    # Examples may register models: they do so in a copy of the (fully read) registry.
    monkeypatch.setattr(registry, "_MODELS", dict(registry._registry()))
    namespace = {"keras": keras, "np": np, "tf": tf, "keras_segen": keras_segen}
    test = doctest.DocTestParser().get_doctest(doc, namespace, name, None, 0)
    executed = [e for e in test.examples if not e.options.get(doctest.SKIP)]
    assert executed, f"{name}: no example line runs (none, or all +SKIP)"
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.append, clear_globs=False)
    # Layer names restart for the next example; no gc.collect(), which costs ~1 s a test
    # in a process that holds many traced models.
    keras.backend.clear_session(free_memory=False)
    assert result.failed == 0, "".join(report)
