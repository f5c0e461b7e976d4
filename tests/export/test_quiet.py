"""Exports print nothing by default (no TensorFlow, converter, quantizer or interpreter
lines); ``keras_segen.set_verbosity(2)`` shows them."""

import os
import subprocess
import sys

MARKER = "--- verbosity 2 from here ---"
SCRIPT = f"""
import numpy as np
import keras_segen
from keras_segen import export

model = keras_segen.unet((32, 32, 3), num_classes=3, filters=4, depth=2)
images = np.random.default_rng(0).random((4, 32, 32, 3), "float32")
path = export.to_tflite(model, "m.tflite", "int8", images)  # converter, calibrator, quantizer
export.verify(model, path, images[:1])  # the interpreter applies XNNPACK
export.inspect(path)
export.verify(model, export.to_onnx(model, "m.onnx"), images[:1])
print({MARKER!r}, flush=True)
keras_segen.set_verbosity(2)
other = keras_segen.unet((32, 32, 3), num_classes=3, filters=4, depth=2)
export.to_tflite(other, "m.tflite")  # a new model: its SavedModel written and read again
"""


def test_exports_are_quiet_unless_asked(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "KERAS_BACKEND"))}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, timeout=300,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    quiet, _, verbose = result.stdout.partition(MARKER + "\n")
    assert quiet == "", quiet[-3000:]  # the int8 calibrator's Interpreter warning included
    assert verbose.strip(), "set_verbosity(2) showed nothing of the converter"
