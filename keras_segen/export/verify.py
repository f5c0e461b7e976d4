"""Run exported artifacts in the runtimes a device uses, and compare them with Keras."""

import contextlib
import io
import os
from importlib import metadata

import numpy as np

from keras_segen.export.convert import input_name


def _artifact_format(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        return "saved_model"
    if path.endswith(".tflite"):
        return "tflite"
    if path.endswith(".onnx"):
        return "onnx"
    raise ValueError(f"{path} is not a SavedModel folder, a .tflite or an .onnx file.")


def _size(path):
    if os.path.isdir(path):
        return sum(
            os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(path)
            for name in names
        )
    return os.path.getsize(path)


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

    TFLite runs in the ai-edge-litert interpreter (int8 inputs and outputs are quantised
    and dequantised with the model's own parameters), ONNX in onnxruntime, SavedModel in
    TensorFlow.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_tflite(model, "unet.tflite")  # float32
        >>> images = np.random.default_rng(0).uniform(size=(1, 64, 64, 3)).astype("float32")
        >>> outputs = keras_segen.export.ArtifactRunner(path)(images)
        >>> outputs.shape, bool(np.allclose(outputs, model(images), atol=1e-4))
        ((1, 64, 64, 4), True)
    """

    def __init__(self, path, num_threads=None):
        self.path = os.fspath(path)
        self.format = _artifact_format(self.path)
        if self.format == "tflite":
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
            self._runner = self._interpreter.get_signature_runner()
            self.input_names = list(self._runner.get_input_details())
            self.runtime = f"ai-edge-litert {metadata.version('ai-edge-litert')}"
        elif self.format == "onnx":
            try:
                import onnxruntime
            except ImportError:
                raise ValueError(
                    'Running ONNX needs onnxruntime: pip install "keras_segen[export]".'
                ) from None

            options = onnxruntime.SessionOptions()
            if num_threads:
                options.intra_op_num_threads = num_threads
            self._session = onnxruntime.InferenceSession(
                self.path, options, providers=["CPUExecutionProvider"]
            )
            self.input_names = [node.name.split(":")[0] for node in self._session.get_inputs()]
            self.runtime = f"onnxruntime {onnxruntime.__version__}"
        else:
            import tensorflow as tf

            self._loaded = tf.saved_model.load(self.path)  # keeps the variables alive
            self._function = self._loaded.serve
            self.input_names = None
            self.runtime = f"tensorflow {tf.__version__}"

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
        inputs = self._named(inputs)
        if self.format == "tflite":
            details = self._runner.get_input_details()
            feed = {
                name: _quantize(np.asarray(inputs[name]), details[name])
                for name in self.input_names
            }
            outputs = self._runner(**feed)
            output_details = self._runner.get_output_details()
            return [_dequantize(outputs[name], output_details[name]) for name in sorted(outputs)]
        if self.format == "onnx":
            feed = {}
            for node, name in zip(self._session.get_inputs(), self.input_names):
                dtype = np.int32 if "int" in node.type else np.float32
                feed[node.name] = np.asarray(inputs[name]).astype(dtype)
            return [np.asarray(out, np.float32) for out in self._session.run(None, feed)]
        values = inputs.values() if isinstance(inputs, dict) else inputs
        outputs = self._function(*values)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [np.asarray(out, np.float32) for out in outputs]

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


def _task(model):
    last = model.layers[-1]
    if getattr(last, "activation", None) is not None and last.activation.__name__ == "tanh":
        return "generation"
    shape = model.output.shape if not isinstance(model.output, list) else None
    if shape is not None and len(shape) == 4 and shape[-1] and shape[-1] > 1:
        return "segmentation"
    return "other"


def _mean_iou(labels, predicted, num_classes):
    scores = []
    for index in range(num_classes):
        union = np.sum((labels == index) | (predicted == index))
        if union:
            scores.append(np.sum((labels == index) & (predicted == index)) / union)
    return float(np.mean(scores))


def verify(model, artifact, samples, labels=None, task=None):
    """Runs ``samples`` through ``model`` and ``artifact`` and compares the outputs.

    Args:
        model: the Keras model the artifact came from.
        artifact: a ``.tflite`` file, an ``.onnx`` file or a SavedModel folder.
        samples: model inputs (an array, or a list of arrays for several inputs).
        labels: optional ground-truth masks for segmenters: adds ``miou_keras``,
            ``miou_artifact`` and ``miou_change``.
        task: ``"segmentation"``, ``"generation"`` or ``"other"`` (inferred by default:
            a ``tanh`` output is a generator, a multi-channel map a segmenter).

    Returns:
        A dict: ``format``, ``runtime``, ``size_bytes``, ``max_abs_diff``,
        ``mean_abs_diff``, and ``argmax_agreement`` and ``miou_vs_keras`` for segmenters
        or ``psnr_db`` (peak 2 for [-1, 1] images) for generators.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> images, masks = next(iter(keras_segen.data.load_segmentation(
        ...     "shapes", image_size=64, batch_size=8, num_examples=8)))
        >>> path = keras_segen.export.to_tflite(model, "unet.tflite", "float16")
        >>> report = keras_segen.export.verify(model, path, images, masks)
        >>> report["argmax_agreement"] > 0.99, report["task"], report["format"]
        (True, 'segmentation', 'tflite')
    """
    runner = ArtifactRunner(artifact)
    inputs = list(samples) if isinstance(samples, (list, tuple)) else [samples]
    expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    names = [input_name(tensor, index) for index, tensor in enumerate(model.inputs)]
    got = runner(dict(zip(names, inputs)))
    if isinstance(expected, (list, tuple)):  # several outputs: compared together
        expected = np.concatenate([np.ravel(part) for part in expected])
        got = np.concatenate([np.ravel(part) for part in got])
    expected, got = np.asarray(expected), np.asarray(got)
    difference = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    report = {
        "format": runner.format,
        "runtime": runner.runtime,
        "size_bytes": _size(runner.path),
        "samples": len(expected),
        "max_abs_diff": float(difference.max()),
        "mean_abs_diff": float(difference.mean()),
        "output_range": float(expected.max() - expected.min()),
    }
    task = task or _task(model)
    if task == "segmentation" and expected.ndim != 4:
        raise ValueError(f"A segmentation output must be (B, H, W, C); got {expected.shape}.")
    report["task"] = task
    if task == "segmentation":
        keras_labels, artifact_labels = expected.argmax(-1), got.argmax(-1)
        classes = expected.shape[-1]
        report["argmax_agreement"] = float(np.mean(keras_labels == artifact_labels))
        report["miou_vs_keras"] = _mean_iou(keras_labels, artifact_labels, classes)
        if labels is not None:
            labels = np.asarray(labels).reshape(keras_labels.shape)
            report["miou_keras"] = _mean_iou(labels, keras_labels, classes)
            report["miou_artifact"] = _mean_iou(labels, artifact_labels, classes)
            report["miou_change"] = report["miou_artifact"] - report["miou_keras"]
    elif task == "generation":
        mse = float(np.mean(difference**2))
        report["psnr_db"] = float("inf") if mse == 0 else float(10 * np.log10(4.0 / mse))
    return report


def inspect(artifact):
    """The operators an artifact uses, its inputs, and (TFLite) GPU-delegate compatibility.

    Returns:
        ``{"format", "ops": sorted op names, "inputs": [{name, shape, dtype, quantization}],
        "size_bytes"}``, plus for TFLite ``"gpu_compatible"`` and ``"gpu_warnings"`` from
        the converter's analyzer.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_tflite(model, "unet.tflite")
        >>> info = keras_segen.export.inspect(path)
        >>> info["format"], info["ops"]  # built-in TFLite ops only
        ('tflite', ['CONCATENATION', 'CONV_2D', 'MAX_POOL_2D', 'TRANSPOSE_CONV'])
    """
    path = os.fspath(artifact)
    kind = _artifact_format(path)
    report = {"format": kind, "size_bytes": _size(path)}
    if kind == "tflite":
        import tensorflow as tf

        runner = ArtifactRunner(path)
        report["ops"] = sorted(
            {op["op_name"] for op in runner._interpreter._get_ops_details()} - {"DELEGATE"}
        )
        report["inputs"] = [
            {
                "name": name,
                "shape": [int(s) for s in details["shape"]],
                "dtype": np.dtype(details["dtype"]).name,
                "quantization": [float(q) for q in details["quantization"]],
            }
            for name, details in runner._runner.get_input_details().items()
        ]
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            tf.lite.experimental.Analyzer.analyze(model_path=path, gpu_compatibility=True)
        warnings = [line.strip() for line in text.getvalue().splitlines() if "GPU COMPAT" in line]
        report["gpu_compatible"] = not warnings
        report["gpu_warnings"] = warnings
    elif kind == "onnx":
        import onnx

        graph = onnx.load(path).graph
        report["ops"] = sorted({node.op_type for node in graph.node})
        report["inputs"] = [
            {"name": node.name,
             "shape": [d.dim_value for d in node.type.tensor_type.shape.dim]}
            for node in graph.input
        ]  # fmt: skip
    else:
        report["ops"] = None
        report["inputs"] = None
    return report
