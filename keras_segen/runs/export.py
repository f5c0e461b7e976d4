"""``keras-segen export``: a registered model, a ``.keras`` file or a run directory to an
artifact, verified against Keras on real preprocessed samples, with a JSON report."""

import os
import time

import keras
import numpy as np

from keras_segen.data import load_segmentation
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.registry import get_model, list_models, model_entry
from keras_segen.runs.checkpoint import write_json
from keras_segen.runs.files import load_run_or_model
from keras_segen.trainers.gan import GAN
from keras_segen.trainers.pix2pix import Pix2Pix
from keras_segen.trainers.vae import VAE

FORMATS = ("saved_model", "tflite", "onnx")
SUFFIXES = {"saved_model": "_saved_model", "tflite": ".tflite", "onnx": ".onnx"}


def _deployable(model):
    """The network a device runs: a trainer's (EMA) generator or decoder, else the model."""
    if isinstance(model, GAN):
        return model.ema_generator or model.generator
    if isinstance(model, VAE):
        return model.decoder
    if isinstance(model, Pix2Pix):
        return model.generator
    return model


def _samples(model, trainer, config, calibration, size, count):
    """``(inputs, labels)``: real preprocessed data wherever the model takes images."""
    dataset = calibration or config.get("dataset") or "shapes"
    if len(model.inputs) == 1 and len(model.inputs[0].shape) == 4:
        classes = trainer.num_classes if isinstance(trainer, Pix2Pix) else None
        data = load_segmentation(dataset, "validation", size, count, num_classes=classes,
                                 num_examples=count, shuffle=False)  # fmt: skip
        images, masks = (tensor.numpy() for tensor in next(iter(data)))
        if isinstance(trainer, Pix2Pix):
            if classes:
                return np.asarray(keras.ops.one_hot(masks, classes)), None
            return images * 2.0 - 1.0, None
        known = config.get("num_classes") == model.output.shape[-1]
        return images, masks if known else None
    rng = np.random.default_rng(0)
    inputs = []
    for tensor in model.inputs:
        if "int" in str(tensor.dtype):
            classes = getattr(trainer, "num_classes", None) or 1
            inputs.append(np.arange(count, dtype="int32") % classes)
        elif len(tensor.shape) == 2:
            inputs.append(rng.normal(size=(count, tensor.shape[-1])).astype("float32"))
        else:
            inputs.append(rng.uniform(-1, 1, (count, *tensor.shape[1:])).astype("float32"))
    return (inputs if len(inputs) > 1 else inputs[0]), None


def _median_ms(function, inputs, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(inputs)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def export_run(
    model_or_run,
    format="tflite",
    quantize=None,
    calibration=None,
    input_size=None,
    out=None,
    num_samples=16,
):
    """Exports, verifies and times a model; writes the artifact and ``<artifact>.json``.

    Args:
        model_or_run: a registered model name (built untrained at ``input_size``), a
            ``.keras`` file, or a run directory (segmentation: ``best.keras``; generation:
            the trainer's generator / decoder, EMA weights when there are any).
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
        quantize: TFLite only: ``None``, ``"float16"``, ``"dynamic"`` or ``"int8"``.
        calibration: dataset for calibration and parity samples (default: the run's, or
            ``"shapes"``).
        input_size: ``(H, W)`` or int for models that take any size (default 256 for
            registered segmenters, else the run's image size).
        out: artifact path (default next to the run or in the working directory).
        num_samples: calibration and verification samples.

    Returns:
        The report: ``verify``'s figures plus ``artifact``, ``quantization``,
        ``latency_ms`` (median per image, batch 1: eager Keras call vs the artifact),
        ``speedup`` and, for TFLite, ``delegation`` (``inspect``'s XNNPACK partitions and
        delegated / undelegated ops, and the GPU delegate's verdict).

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> exported = keras_segen.export_run("runs/unet", "tflite", quantize="int8")
        >>> exported["artifact"], exported["quantization"], 0 <= exported["argmax_agreement"] <= 1
        ('runs/unet/model_int8.tflite', 'int8', True)
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}; got {format!r}.")
    if quantize is not None and format != "tflite":
        raise ValueError("quantize applies to format='tflite' only.")
    config = {}
    name = os.fspath(model_or_run)
    if name in list_models():
        if model_entry(name).task == "segmentation":
            loaded = get_model(name, input_shape=(*image_size_pair(input_size or 256), 3))
        else:
            loaded = get_model(name)
        stem = name
    else:
        loaded, config = load_run_or_model(name)  # a generation run's last.keras: the trainer
        stem = os.path.join(name, "model") if os.path.isdir(name) else os.path.splitext(name)[0]
    trainer, model = loaded, _deployable(loaded)
    fixed = model.inputs[0].shape[1:3]
    if input_size is not None:
        size = image_size_pair(input_size)
    elif None not in fixed and len(model.inputs[0].shape) == 4:
        size = tuple(fixed)
    else:
        size = image_size_pair(config.get("image_size") or 256)
    input_shape = (*size, model.inputs[0].shape[-1]) if len(model.inputs[0].shape) == 4 else None
    samples, labels = _samples(model, trainer, config, calibration, size, num_samples)
    suffix = f"_{quantize}" if quantize else ""
    path = out or f"{stem}{suffix}{SUFFIXES[format]}"
    from keras_segen import export as exporting  # TensorFlow: imported when exporting
    from keras_segen.export.convert import input_name

    if format == "tflite":
        exporting.to_tflite(model, path, quantize, samples, input_shape)
    elif format == "onnx":
        exporting.to_onnx(model, path, input_shape=input_shape)
    else:
        exporting.to_saved_model(model, path, input_shape)
    report = exporting.verify(model, path, samples, labels)
    runner = exporting.ArtifactRunner(path)
    first = [s[:1] for s in samples] if isinstance(samples, list) else [samples[:1]]
    names = [input_name(tensor, index) for index, tensor in enumerate(model.inputs)]
    keras_inputs = first if len(first) > 1 else first[0]
    keras_ms = _median_ms(lambda x: model(x, training=False), keras_inputs, 20)
    artifact_ms = _median_ms(runner, dict(zip(names, first)), 20)
    report.update(
        artifact=os.fspath(path),
        quantization=quantize,
        latency_ms={"keras_eager": keras_ms, "artifact": artifact_ms},
        speedup=keras_ms / artifact_ms,
    )
    if format == "tflite":
        info = exporting.inspect(path)
        report["delegation"] = {
            "xnnpack": info["xnnpack"],
            "gpu_compatible": info["gpu_compatible"],
            "gpu_warnings": info["gpu_warnings"],
        }
    write_json(report, f"{path}.json")
    return report

