"""What TensorFlow, its converters and the TFLite interpreters print, silenced unless
``keras_segen.set_verbosity(2)``: C++ lines on stderr (MLIR converter and quantizer,
XNNPACK delegate, grappler) and the ``tf.lite.Interpreter`` deprecation warning that
TensorFlow's int8 calibrator raises (it always runs TensorFlow's own interpreter)."""

import contextlib
import warnings

from keras_segen.verbosity import stderr_silenced, tensorflow_logs_shown

INTERPRETER_DEPRECATION = r"\s*Warning: tf\.lite\.Interpreter is deprecated"


@contextlib.contextmanager
def tensorflow_quiet():
    """Runs the block with stderr (fd 2) on the null device and TensorFlow's interpreter
    deprecation warning ignored, below verbosity 2; a no-op at verbosity 2.

    Example:
        >>> from keras_segen.export.quiet import tensorflow_quiet
        >>> with tensorflow_quiet():
        ...     import os; _ = os.write(2, b"a C++ log line\\n")  # not shown
    """
    with stderr_silenced(), warnings.catch_warnings():
        if not tensorflow_logs_shown():
            warnings.filterwarnings("ignore", INTERPRETER_DEPRECATION, UserWarning)
        yield
