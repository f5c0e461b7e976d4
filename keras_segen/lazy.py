"""Lazy package attributes: a name's module is imported on first access (PEP 562)."""

import importlib
import importlib.abc
import importlib.util
import sys


def lazy_attributes(package, exports):
    """``(__getattr__, __dir__)`` for ``package`` whose ``exports`` map names to modules.

    A name whose module is ``""`` is the submodule ``package.name`` itself.
    """

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name] or f"{package}.{name}")
        value = module if not exports[name] else getattr(module, name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        run_pending()
        return value

    def __dir__():
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


_PENDING = []


def _package_initializing():
    """Whether a ``keras_segen`` submodule is part-way through its own import."""
    return any(
        getattr(getattr(module, "__spec__", None), "_initializing", False)
        for name, module in list(sys.modules.items())
        if name.startswith("keras_segen.")
    )


def run_pending():
    """Runs the callbacks waiting for Keras, once Keras is imported and no package module
    is part-way through its import (which the callbacks could re-enter)."""
    if _PENDING and "keras" in sys.modules and not _package_initializing():
        callbacks = list(_PENDING)
        _PENDING.clear()
        for callback in callbacks:
            callback()


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Runs the pending callbacks right after ``keras`` has been imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            run_pending()

        spec.loader.exec_module = exec_module
        return spec


def when_keras_is_imported(callback):
    """Calls ``callback`` once Keras is imported: now, right after ``import keras``, or,
    when Keras came in through a package module's own import, at the package's next
    lazy attribute access.

    Used to register the package's serialisable classes, so that ``keras.models.load_model``
    finds them whatever the order of ``import keras`` and ``import keras_segen``, while
    ``import keras_segen`` alone imports no Keras.
    """
    _PENDING.append(callback)
    if "keras" in sys.modules:
        run_pending()
    else:
        sys.meta_path.insert(0, _AfterKerasImport())
