"""How much the library and TensorFlow print: quiet by default.

Levels: ``0`` prints nothing but errors; ``1`` (the default) prints the library's own
results and warnings; ``2`` also lets TensorFlow, absl, oneDNN, CUDA and the TFLite
converter log as they would without the library.

TensorFlow writes its start-up lines (oneDNN, CUDA, CPU features) to the process's stderr
from C++ while it is imported, before any Python logging setting applies. So while the
level is below 2, the first ``import tensorflow`` (also when Keras imports it) runs with
``TF_CPP_MIN_LOG_LEVEL=3`` and stderr sent to the null device; a Python exception raised
by that import is still shown, after stderr is restored.
"""

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys

LEVELS = (0, 1, 2)
_state = {"level": 1}


def get_verbosity():
    """The current level (see the module docstring).

    Example:
        >>> keras_segen.get_verbosity()  # the default: results and warnings, no TF logs
        1
    """
    return _state["level"]


def set_verbosity(level):
    """Sets how much the library and TensorFlow print: 0, 1 (default) or 2 (TensorFlow's logs).

    Set it before TensorFlow is imported to silence or show TensorFlow's start-up lines;
    afterwards it still governs TensorFlow's and absl's Python loggers and the converter.

    Example:
        >>> keras_segen.set_verbosity(2)  # TensorFlow's own log lines, e.g. to debug a GPU
        >>> keras_segen.set_verbosity(1)
    """
    if level not in LEVELS:
        raise ValueError(f"verbosity must be one of {LEVELS}; got {level!r}.")
    _state["level"] = level
    if "tensorflow" in sys.modules:
        _quiet_python_loggers()
    elif level < 2:
        _install_import_hook()


def tensorflow_logs_shown():
    """Whether TensorFlow's own log lines are wanted (level 2)."""
    return _state["level"] >= 2


def _quiet_python_loggers():
    level = logging.INFO if tensorflow_logs_shown() else logging.ERROR
    for name in ("tensorflow", "absl", "tf2onnx"):
        logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def stderr_silenced():
    """Sends file descriptor 2 (C++ logging included) to the null device unless level 2."""
    if tensorflow_logs_shown():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Imports ``tensorflow`` with its C++ start-up lines silenced (see the module docstring).

    ``importlib.util.find_spec("tensorflow")`` (asking whether TensorFlow is installed)
    also reaches this finder, so it stays installed until the module is really executed.
    """

    def __init__(self):
        self.searching = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.searching:
            return None
        self.searching = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.searching = False
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            _remove_import_hook()
            if tensorflow_logs_shown():
                execute(module)
                return
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
            with stderr_silenced():
                execute(module)
            _quiet_python_loggers()

        spec.loader.exec_module = exec_module
        return spec


def _install_import_hook():
    if not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


def _remove_import_hook():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]


def install():
    """Called by ``import keras_segen``: quiet TensorFlow's import, or its loggers if imported."""
    if "tensorflow" in sys.modules:
        _quiet_python_loggers()
    else:
        _install_import_hook()
