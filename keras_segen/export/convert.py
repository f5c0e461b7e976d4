"""Conversion of Keras models to SavedModel, TFLite (built-in ops only) and ONNX.

Every export traces the model once with a fixed signature: batch 1, fixed height and
width, named inputs (the Keras input names), ``training=False`` (so BatchNorm uses its
moving statistics and is folded, and Dropout disappears). A quantization-aware view
(``keras_segen.quantization_aware``) is exported as the float model it shares weights with.
"""

import hashlib
import os
import re
import shutil
import tempfile
import weakref

import numpy as np
import tensorflow as tf

from keras_segen.export.int8_checks import check_byte_copies
from keras_segen.export.quiet import tensorflow_quiet
from keras_segen.export.runners import open_interpreter
from keras_segen.quantization import group_norm_equalised, sublayers, without_fake_quantization

QUANTIZATIONS = (None, "float16", "dynamic", "int8")
MAX_CALIBRATION_SAMPLES = 200


def input_name(tensor, index=0):
    """The name an export gives a Keras input (the input's name, made identifier-safe)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", tensor.name.split(":")[0]) or f"input_{index}"


def input_specs(model, input_shape=None, batch_size=1):
    """Fixed ``tf.TensorSpec`` per model input: ``(batch_size, H, W, C)`` named after the input.

    Args:
        model: a Keras model.
        input_shape: ``(H, W, C)`` (or ``(H, W)``) for a model whose first input has unknown
            height or width; other inputs keep their own shape.
        batch_size: the fixed batch (1 for edge exports).

    Returns:
        A list of ``tf.TensorSpec``.

    Raises:
        ValueError: the model's outputs are nested (a training-time network such as SPADE's
            multi-scale discriminator): an artifact has a flat list of outputs.

    Example:
        >>> keras_segen.export.input_specs(keras_segen.unet((None, None, 3)), (64, 64, 3))
        [TensorSpec(shape=(1, 64, 64, 3), dtype=tf.float32, name='image')]
    """
    if _has_nested_outputs(model):
        raise ValueError(
            f"{model.name} returns nested lists of {len(model.outputs)} maps (one list per "
            "scale: a training-time discriminator); an export writes a model with one "
            "output or a flat list of outputs. Export the generator it trains instead."
        )
    specs = []
    for index, tensor in enumerate(model.inputs):
        shape = list(tensor.shape[1:])
        if index == 0 and input_shape is not None:
            given = list(input_shape)
            if len(given) not in (len(shape), len(shape) - 1):
                raise ValueError(
                    f"input_shape {tuple(input_shape)} does not fit the model input "
                    f"{tuple(tensor.shape[1:])}."
                )
            shape = given + shape[len(given) :]
        if any(size is None for size in shape):
            raise ValueError(
                f"Model input {tensor.name!r} has shape {tuple(tensor.shape[1:])}; an export "
                "needs a fixed height and width: pass input_shape=(H, W, C)."
            )
        specs.append(
            tf.TensorSpec([batch_size, *shape], tensor.dtype, name=input_name(tensor, index))
        )
    return specs


def _has_nested_outputs(model):
    try:
        output = model.output
    except (AttributeError, ValueError):  # a subclassed model: outputs known once called
        return False
    return isinstance(output, (list, tuple)) and any(isinstance(o, (list, tuple)) for o in output)


def serving_function(model, specs):
    """A ``tf.function`` with the fixed signature that calls ``model(..., training=False)``."""
    if len(specs) == 1:
        return tf.function(lambda x: model(x, training=False), input_signature=specs)
    return tf.function(lambda *xs: model(list(xs), training=False), input_signature=specs)


def to_saved_model(model, path, input_shape=None):
    """Writes a TensorFlow SavedModel with one ``serve`` endpoint of fixed signature.

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_saved_model(model, "unet_savedmodel")
        >>> import os
        >>> sorted(os.listdir(path))
        ['assets', 'fingerprint.pb', 'saved_model.pb', 'variables']
    """
    given, model = model, without_fake_quantization(model)
    with tensorflow_quiet():
        folder = _saved_model_of(given, model, input_specs(model, input_shape), rebuilt=False)
    shutil.copytree(folder, path, dirs_exist_ok=True)  # to_tflite may convert the same one
    return os.fspath(path)


def _write_saved_model(model, specs, path):
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serving_function(model, specs), input_signature=specs)
    archive.write_out(os.fspath(path), verbose=False)


# The SavedModel written last (by to_saved_model or to_tflite): converting the same model
# with the same weights again (float16, dynamic, int8) reuses it instead of writing it again.
_last_saved_model = {}


def _saved_model_of(given, model, specs, rebuilt):
    """A SavedModel folder of ``model`` (``given`` without fake quantization; ``rebuilt``
    for int8: unrolled, GroupNorm inputs equalised) at ``specs``, for ``to_saved_model`` to
    copy and ``to_tflite`` to convert; the last one is reused while ``model``'s weights are
    unchanged.

    Through a SavedModel because Keras 3 variables captured by a bare tf.function are left
    as uninitialised resource reads by the converter (NaN outputs); a SavedModel's are
    frozen into constants.
    """
    digest = hashlib.blake2b(digest_size=16)
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    key = (
        [(tuple(spec.shape), spec.dtype.name, spec.name) for spec in specs],
        rebuilt,
        digest.hexdigest(),
    )
    last = _last_saved_model
    if last and last["model"]() is given and last["key"] == key:
        return last["folder"].name
    folder = tempfile.TemporaryDirectory()  # removed when replaced (garbage-collected)
    _write_saved_model(model, specs, folder.name)
    last.update(model=weakref.ref(given), key=key, folder=folder)
    return folder.name


def _calibration_samples(representative_data, specs):
    """Up to ``MAX_CALIBRATION_SAMPLES`` single examples, each ``{input name: array}``.

    By name: the converter's own input order need not be the Keras one (a label map
    discriminator's inputs were fed swapped by position)."""
    if representative_data is None:
        raise ValueError(
            'quantization="int8" calibrates on real data: pass representative_data= '
            "(preprocessed images as an array or a tf.data dataset)."
        )
    if isinstance(representative_data, tf.data.Dataset):
        data = representative_data
        if isinstance(data.element_spec, tuple) and len(specs) == 1:
            data = data.map(lambda *parts: parts[0])  # (image, label) pairs
        if tf.nest.flatten(data.element_spec)[0].shape.rank == len(specs[0].shape):
            data = data.unbatch()
        examples = [tf.nest.flatten(e) for e in data.take(MAX_CALIBRATION_SAMPLES)]
        if not examples:
            raise ValueError("representative_data is empty.")
        arrays = [np.stack([np.asarray(part) for part in parts]) for parts in zip(*examples)]
    else:
        arrays = representative_data if len(specs) > 1 else [representative_data]
        arrays = [np.asarray(array) for array in arrays]
    if len(arrays) != len(specs):
        raise ValueError(
            f"representative_data has {len(arrays)} parts; the model takes {len(specs)}."
        )
    count = min(len(array) for array in arrays)
    if count == 0:
        raise ValueError("representative_data is empty.")
    for array, spec in zip(arrays, specs):
        if tuple(array.shape[1:]) != tuple(spec.shape[1:]):
            raise ValueError(
                f"representative_data samples have shape {tuple(array.shape[1:])}; the export "
                f"input {spec.name!r} is {tuple(spec.shape[1:])}."
            )
    return [
        {
            spec.name: array[i : i + 1].astype(spec.dtype.as_numpy_dtype)
            for array, spec in zip(arrays, specs)
        }
        for i in range(min(count, MAX_CALIBRATION_SAMPLES))
    ]


def unrolled(model, specs):
    """``model`` with its recurrent layers unrolled over the fixed export sizes ``specs``.

    The TFLite calibrator cannot run RNN loops (TF 2.21 crashes on ReSeg's WHILE ops); a
    fixed-length chain of cell steps calibrates like any feed-forward graph and gives the
    same outputs. A model without recurrent layers is returned as it is.

    Example:
        >>> model = keras_segen.get_model("reseg", preset="tiny")  # one ReNet layer
        >>> specs = keras_segen.export.input_specs(model)
        >>> copy = keras_segen.export.convert.unrolled(model, specs)
        >>> [layer.unroll for layer in copy.layers if hasattr(layer, "unroll")]
        [True, True]
    """
    import keras

    from keras_segen.layers import ReNetSweep

    def recurrent(layer):
        return isinstance(layer, (keras.layers.RNN, ReNetSweep))

    if not any(map(recurrent, sublayers(model))):
        return model

    def clone(layer):
        config = layer.get_config()
        if recurrent(layer):
            config["unroll"] = True
        return layer.__class__.from_config(config)

    inputs = [
        keras.Input(spec.shape[1:], dtype=spec.dtype.name, name=tensor.name)
        for spec, tensor in zip(specs, model.inputs)
    ]
    if not isinstance(model.input, (list, tuple)):
        inputs = inputs[0]
    try:
        copy = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    except Exception as error:  # subclassed models, layers without from_config
        raise ValueError(
            f"{model.name} has recurrent layers, which int8 calibration can only run unrolled, "
            f'and it could not be rebuilt with unroll=True ({error}). Use "dynamic" or '
            '"float16" quantization for this model.'
        ) from None
    nested = [
        layer.name for layer in sublayers(copy) if recurrent(layer) and not layer.unroll
    ]
    if nested:
        raise ValueError(
            f"{model.name} has recurrent layers inside nested models ({', '.join(nested[:4])}) "
            'that cannot be unrolled for int8 calibration. Use "dynamic" or "float16".'
        )
    copy.set_weights(model.get_weights())
    return copy


def _unsupported_ops(message):
    names = set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", message))
    for listed in re.findall(r"(?:Custom|Flex) ops: ([\w, ]+)", message):
        names.update(name.strip() for name in listed.split(",") if name.strip())
    return sorted(names)


def to_tflite(
    model,
    path,
    quantization=None,
    representative_data=None,
    input_shape=None,
    int8_io=False,
):
    """Converts ``model`` to a ``.tflite`` file that uses built-in TFLite ops only.

    Args:
        model: a Keras model.
        path: output file.
        quantization: ``None`` (float32), ``"float16"`` (weights), ``"dynamic"`` (int8
            weights, float activations) or ``"int8"`` (full integer, calibrated).
        representative_data: preprocessed samples for ``"int8"`` calibration: an array
            ``(N, H, W, C)`` (a list of arrays for several inputs) or a ``tf.data``
            dataset of images or ``(image, label)`` pairs, batched or not; at most 200 used.
        input_shape: ``(H, W, C)`` when the model's height or width is unknown.
        int8_io: with ``"int8"``, int8 input and output tensors too (the quantisation
            parameters are in ``inspect(path)["inputs"]``); otherwise float32 I/O.

    Returns:
        The path written.

    Raises:
        ValueError: an unknown option, missing calibration data, a model that would
            need TensorFlow (Flex/Select-TF) ops (the message lists those ops), an int8
            file that the XNNPACK CPU delegate refuses to prepare (activations that blew up
            in training; the message names the largest), or one whose byte-copying
            operators got other quantisation than their input (the message names them).

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> calibration = keras_segen.data.load_segmentation(
        ...     "shapes", image_size=64, batch_size=None, num_examples=16).map(lambda x, y: x)
        >>> path = keras_segen.export.to_tflite(model, "unet_int8.tflite", "int8", calibration)
        >>> info = keras_segen.export.inspect(path)
        >>> info["inputs"][0]["shape"], info["inputs"][0]["dtype"]  # int8 inside, float I/O
        ([1, 64, 64, 3], 'float32')
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}; got {quantization!r}.")
    if int8_io and quantization != "int8":
        raise ValueError('int8_io=True needs quantization="int8".')
    given = model
    model = float_model = without_fake_quantization(model)
    specs = input_specs(model, input_shape)
    samples = None
    if quantization == "int8":
        samples = _calibration_samples(representative_data, specs)
        model = unrolled(model, specs)
        batch = [np.concatenate([sample[spec.name] for sample in samples]) for spec in specs]
        model = group_norm_equalised(model, batch if len(batch) > 1 else batch[0])
    with tensorflow_quiet():
        saved_model = _saved_model_of(given, model, specs, rebuilt=model is not float_model)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, ["serve"])
        content = _convert(converter, model, specs, quantization, samples, int8_io)
    with open(path, "wb") as file:
        file.write(content)
    if quantization == "int8":  # errors now, not on the device
        interpreter, _ = open_interpreter(path)  # raises for a file XNNPACK refuses
        check_byte_copies(interpreter, path)
    return os.fspath(path)


def _convert(converter, model, specs, quantization, samples, int8_io):
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic":
        # The MLIR dynamic-range quantizer emits FULLY_CONNECTED version 12 and hybrid
        # (int8-weight, float-input) TRANSPOSE_CONV, which tflite-runtime 2.14 cannot load;
        # the previous quantizer keeps both within what that runtime runs.
        converter.experimental_new_dynamic_range_quantizer = False
    elif quantization == "int8":
        converter.representative_dataset = lambda: iter(samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError with MLIR diagnostics
        unsupported = _unsupported_ops(str(error))
        if unsupported:
            raise ValueError(
                f"{model.name} needs TensorFlow ops that are not TFLite built-ins: "
                f"{', '.join(unsupported)}. A device runtime without Flex (Select TF ops) "
                "cannot run it; replace those layers."
            ) from None
        raise


def to_onnx(model, path, opset=17, input_shape=None):
    """Converts ``model`` to ONNX with tf2onnx (fixed batch-1 signature).

    Example:
        >>> model = keras_segen.unet((64, 64, 3), num_classes=4, filters=8, depth=2)
        >>> path = keras_segen.export.to_onnx(model, "unet.onnx")
        >>> outputs = keras_segen.export.ArtifactRunner(path)(np.zeros((1, 64, 64, 3), "float32"))
        >>> outputs.shape
        (1, 64, 64, 4)
    """
    try:
        import tf2onnx
    except ImportError:
        raise ValueError('ONNX export needs tf2onnx: pip install "keras_segen[export]".') from None

    model = without_fake_quantization(model)
    specs = input_specs(model, input_shape)
    with tensorflow_quiet():
        tf2onnx.convert.from_function(
            serving_function(model, specs), input_signature=specs, opset=opset,
            output_path=os.fspath(path),
        )  # fmt: skip
    return os.fspath(path)
