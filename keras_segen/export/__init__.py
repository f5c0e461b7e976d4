"""Export to SavedModel, TFLite (built-in ops; float32, float16, dynamic, int8) and ONNX,
with verification against the Keras model in the runtimes a device uses."""

from keras_segen.export.convert import (
    QUANTIZATIONS,
    input_specs,
    to_onnx,
    to_saved_model,
    to_tflite,
)
from keras_segen.export.runners import ArtifactRunner
from keras_segen.export.verify import inspect, verify

__all__ = [
    "QUANTIZATIONS",
    "ArtifactRunner",
    "input_specs",
    "inspect",
    "to_onnx",
    "to_saved_model",
    "to_tflite",
    "verify",
]
