"""Runners for exported artifacts: one class per format behind one interface.

``ArtifactRunner(path)`` opens the runner of the artifact's format: ``TFLiteRunner``
(ai-edge-litert, else tflite-runtime, else TensorFlow's own interpreter; int8 inputs and
outputs quantised with the model's own parameters),
``ONNXRunner`` (onnxruntime) or ``SavedModelRunner`` (TensorFlow). Each subclass opens
its runtime and runs one example; batching and input naming are shared.
"""

import os
from importlib import import_module, metadata

import numpy as np

from keras_segen.export.int8_checks import xnnpack_refusal
from keras_segen.export.quiet import tensorflow_quiet


def artifact_format(path):
    """``"saved_model"``, ``"tflite"`` or ``"onnx"`` from an artifact's path."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return "saved_model"
    if path.endswith(".tflite"):
        return "tflite"
    if path.endswith(".onnx"):
        return "onnx"
    raise ValueError(f"{path} is not a SavedModel folder, a .tflite or an .onnx file.")


def _quantize(array, details):
    scale, zero_point = details["quantization"]
    if details["dtype"] == np.float32 or not scale:
        return array.astype(details["dtype"])
    info = np.iinfo(details["dtype"])
    quantized = np.round(array / scale + zero_point)
    return np.clip(quantized, info.min, info.max).astype(details["dtype"])


def _dequantize(array, details):
    scale, zero_point = details["quantization"]
    if not np.issubdtype(array.dtype, np.integer) or not scale:
        return array.astype(np.float32)
    return ((array.astype(np.float32) - zero_point) * scale).astype(np.float32)


class ArtifactRunner:
    """Runs one exported artifact example by example (the exports have batch 1).

    ``ArtifactRunner(path)`` returns the runner of the artifact's format
    (``TFLiteRunner``, ``ONNXRunner`` or ``SavedModelRunner``); each has ``path``,
    ``format``, ``runtime`` (name and version), ``input_names``, ``run_one`` and
    ``__call__``.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_tflite(model, "unet.tflite")  # float32
        >>> images = np.random.default_rng(0).uniform(size=(1, 64, 64, 3)).astype("float32")
        >>> runner = keras_segen.export.ArtifactRunner(path)
        >>> type(runner).__name__, runner.format
        ('TFLiteRunner', 'tflite')
        >>> outputs = runner(images)
        >>> outputs.shape, bool(np.allclose(outputs, model(images), atol=1e-4))
        ((1, 64, 64, 4), True)
    """

    format = None
    input_names = None

    def __new__(cls, path, num_threads=None):
        if cls is ArtifactRunner:
            cls = RUNNERS[artifact_format(path)]
        return super().__new__(cls)

    def __init__(self, path, num_threads=None):
        self.path = os.fspath(path)
        self._open(num_threads)

    def _open(self, num_threads):
        """Loads the artifact into the runtime; sets ``runtime`` and ``input_names``."""
        raise NotImplementedError

    def _run(self, inputs):
        """One example ``{input name: array}`` (or a list) -> list of float32 outputs."""
        raise NotImplementedError

    def _named(self, inputs):
        """``{input name: array}`` from a dict, or from a list in the artifact's input order."""
        if isinstance(inputs, dict):
            missing = set(self.input_names or ()) - set(inputs)
            if missing:
                raise ValueError(f"Inputs {sorted(missing)} missing; the artifact takes "
                                 f"{self.input_names}.")  # fmt: skip
            return inputs
        if self.input_names is None:
            return inputs
        return dict(zip(self.input_names, inputs))

    def run_one(self, inputs):
        """One example (arrays with batch 1, as a dict by input name or a list) -> outputs.

        Returns a list with one float32 array per model output.
        """
        return self._run(self._named(inputs))

    def __call__(self, inputs):
        """A batch -> outputs (float32), example by example.

        ``inputs``: an array, a list of arrays in the artifact's input order, or a dict
        ``{input name: array}`` (the names are the Keras input names). Returns one array,
        or a list of arrays for a model with several outputs.
        """
        if isinstance(inputs, dict):
            names, arrays = list(inputs), [np.asarray(v) for v in inputs.values()]
        else:
            names = None
            arrays = [np.asarray(v) for v in (inputs if isinstance(inputs, (list, tuple))
                                               else [inputs])]  # fmt: skip
        outputs = []
        for index in range(len(arrays[0])):
            example = [array[index : index + 1] for array in arrays]
            outputs.append(self.run_one(dict(zip(names, example)) if names else example))
        joined = [np.concatenate(parts) for parts in zip(*outputs)]
        return joined[0] if len(joined) == 1 else joined


def tflite_interpreter():
    """``(Interpreter class, "package version")`` of the first TFLite runtime installed.

    ai-edge-litert (current LiteRT), then tflite-runtime (older devices), then the
    interpreter inside TensorFlow.
    """
    for package, module_name in (
        ("ai-edge-litert", "ai_edge_litert.interpreter"),
        ("tflite-runtime", "tflite_runtime.interpreter"),
        ("tensorflow", "tensorflow.lite"),
    ):
        try:
            module = import_module(module_name)
            version = metadata.version(package)
        except ImportError:  # metadata.PackageNotFoundError too (e.g. tensorflow-cpu)
            continue
        return module.Interpreter, f"{package} {version}"
    raise ValueError(
        "Running .tflite files needs a TFLite runtime: pip install ai-edge-litert "
        '(or "keras_segen[export]"), or tflite-runtime on older devices.'
    )


def open_interpreter(path, num_threads=None):
    """``(interpreter, "package version")``: ``path`` loaded in the first TFLite runtime
    installed (``tflite_interpreter``), its tensors allocated and delegates applied, quietly
    (``keras_segen.set_verbosity(2)`` shows the runtime's own lines)."""
    interpreter_class, runtime = tflite_interpreter()
    with tensorflow_quiet():
        interpreter = interpreter_class(model_path=os.fspath(path), num_threads=num_threads)
        try:
            interpreter.allocate_tensors()  # where XNNPACK is applied (and says so on stderr)
        except RuntimeError as error:
            if "XNNPACK" not in str(error):
                raise
            raise ValueError(xnnpack_refusal(path, interpreter, runtime)) from None
    return interpreter, runtime


class TFLiteRunner(ArtifactRunner):
    """A ``.tflite`` file in the first TFLite runtime installed; int8 I/O (de)quantised."""

    format = "tflite"

    def _open(self, num_threads):
        self._interpreter, self.runtime = open_interpreter(self.path, num_threads)
        self._runner = self._interpreter.get_signature_runner()
        self.input_details = self._runner.get_input_details()  # name -> shape, dtype, quantization
        self.input_names = list(self.input_details)

    def _run(self, inputs):
        details = self.input_details
        feed = {
            name: _quantize(np.asarray(inputs[name]), details[name]) for name in self.input_names
        }
        outputs = self._runner(**feed)
        output_details = self._runner.get_output_details()
        return [_dequantize(outputs[name], output_details[name]) for name in sorted(outputs)]


class ONNXRunner(ArtifactRunner):
    """An ``.onnx`` file in onnxruntime on the CPU."""

    format = "onnx"

    def _open(self, num_threads):
        try:
            import onnxruntime
        except ImportError:
            raise ValueError(
                'Running ONNX needs onnxruntime: pip install "keras_segen[export]".'
            ) from None

        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        with tensorflow_quiet():
            self._session = onnxruntime.InferenceSession(
                self.path, options, providers=["CPUExecutionProvider"]
            )
        self.input_names = [node.name.split(":")[0] for node in self._session.get_inputs()]
        self.runtime = f"onnxruntime {onnxruntime.__version__}"

    def _run(self, inputs):
        feed = {}
        for node, name in zip(self._session.get_inputs(), self.input_names):
            dtype = np.int32 if "int" in node.type else np.float32
            feed[node.name] = np.asarray(inputs[name]).astype(dtype)
        return [np.asarray(out, np.float32) for out in self._session.run(None, feed)]


class SavedModelRunner(ArtifactRunner):
    """A SavedModel folder in TensorFlow (its ``serve`` function)."""

    format = "saved_model"

    def _open(self, num_threads):
        import tensorflow as tf

        with tensorflow_quiet():
            self._loaded = tf.saved_model.load(self.path)  # keeps the variables alive
        self._function = self._loaded.serve
        self.runtime = f"tensorflow {tf.__version__}"

    def _run(self, inputs):
        values = inputs.values() if isinstance(inputs, dict) else inputs
        outputs = self._function(*values)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [np.asarray(out, np.float32) for out in outputs]


RUNNERS = {runner.format: runner for runner in (TFLiteRunner, ONNXRunner, SavedModelRunner)}
