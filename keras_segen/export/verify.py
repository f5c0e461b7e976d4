"""Run exported artifacts in the runtimes a device uses, and compare them with Keras."""

import contextlib
import io
import os
from collections import Counter

import numpy as np

from keras_segen.export.convert import input_name
from keras_segen.export.quiet import tensorflow_quiet
from keras_segen.export.runners import ArtifactRunner, artifact_format, open_interpreter


def _size(path):
    if os.path.isdir(path):
        return sum(
            os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(path)
            for name in names
        )
    return os.path.getsize(path)


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


def xnnpack_delegation(path):
    """How the XNNPACK CPU delegate takes a ``.tflite`` file: partitions, delegated and CPU ops.

    The interpreter applies XNNPACK when its tensors are allocated and appends one
    ``DELEGATE`` node per partition, whose inputs are every tensor entering the partition.
    The operators inside a partition are those reached backwards from its outputs without
    crossing those inputs; every other operator runs on TFLite's own kernels, and each
    switch between the two costs a copy and a synchronisation.

    Returns:
        ``{"partitions", "delegated_ops": {op: count}, "undelegated_ops": {op: count},
        "delegated_share"}`` (the share of operators XNNPACK runs).
    """
    interpreter, _ = open_interpreter(path)
    ops = interpreter._get_ops_details()
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    originals = [op for op in ops if op["op_name"] != "DELEGATE"]
    producer = {int(tensor): op["index"] for op in originals for tensor in op["outputs"]}
    delegated = set()
    for delegate in delegates:
        boundary = {int(tensor) for tensor in delegate["inputs"]}
        pending, seen = [int(tensor) for tensor in delegate["outputs"]], set()
        while pending:
            tensor = pending.pop()
            if tensor in seen or tensor in boundary or tensor not in producer:
                continue
            seen.add(tensor)
            delegated.add(producer[tensor])
            pending.extend(int(t) for t in ops[producer[tensor]]["inputs"] if t >= 0)

    def count(indices):
        return dict(sorted(Counter(ops[index]["op_name"] for index in indices).items()))

    undelegated = [op["index"] for op in originals if op["index"] not in delegated]
    return {
        "partitions": len(delegates),
        "delegated_ops": count(delegated),
        "undelegated_ops": count(undelegated),
        "delegated_share": len(delegated) / max(len(originals), 1),
    }


def inspect(artifact):
    """The operators an artifact uses, its inputs, and (TFLite) how delegates take it.

    Returns:
        ``{"format", "ops": sorted op names, "inputs": [{name, shape, dtype, quantization}],
        "size_bytes"}``, plus for TFLite ``"xnnpack"`` (``xnnpack_delegation``: partitions,
        delegated and undelegated ops, delegated share) and ``"gpu_compatible"`` and
        ``"gpu_warnings"`` from the converter's analyzer (the GPU delegate's verdict).

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_tflite(model, "unet.tflite")
        >>> info = keras_segen.export.inspect(path)
        >>> info["format"], info["ops"]  # built-in TFLite ops only
        ('tflite', ['CONCATENATION', 'CONV_2D', 'MAX_POOL_2D', 'TRANSPOSE_CONV'])
        >>> info["xnnpack"]["partitions"], info["xnnpack"]["undelegated_ops"]  # all on XNNPACK
        (1, {})
    """
    path = os.fspath(artifact)
    kind = artifact_format(path)
    report = {"format": kind, "size_bytes": _size(path)}
    if kind == "tflite":
        import tensorflow as tf

        runner = ArtifactRunner(path)
        report["xnnpack"] = delegation = xnnpack_delegation(path)
        report["ops"] = sorted({*delegation["delegated_ops"], *delegation["undelegated_ops"]})
        report["inputs"] = [
            {
                "name": name,
                "shape": [int(s) for s in details["shape"]],
                "dtype": np.dtype(details["dtype"]).name,
                "quantization": [float(q) for q in details["quantization"]],
            }
            for name, details in runner.input_details.items()
        ]
        text = io.StringIO()
        with contextlib.redirect_stdout(text), tensorflow_quiet():
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
