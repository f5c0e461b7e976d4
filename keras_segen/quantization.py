"""Quantization-aware fine-tuning: train a model under simulated int8 rounding, then export
it with ``to_tflite(..., "int8")`` as usual.

``quantization_aware(model)`` returns a training view of ``model`` that shares its layers
and weights: kernels are rounded per output channel and every tensor TFLite keeps in int8
is rounded over its observed range (``keras_segen.layers.FakeQuant``). Fine-tuning the
view fine-tunes ``model`` itself; ``without_fake_quantization`` gives the float model back
from a view (also from one loaded from a ``.keras`` file), and every export does that
first. Keras only: the fine-tuning runs on any backend.

``group_norm_equalised`` is the one rewrite every int8 export applies: it rescales the
convolutions that feed a GroupNorm so that one int8 scale covers all their groups.
"""

import keras
import numpy as np

from keras_segen.layers.fake_quant import FakeQuant, FakeQuantKernel, kernel_reduction_axes


def _fused_into_producer(layer):
    """Whether TFLite folds ``layer`` into the op before it (its input is never int8)."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return True
    if isinstance(layer, keras.layers.ReLU):
        return layer.negative_slope == 0 and layer.threshold == 0 and layer.max_value in (None, 6)
    if isinstance(layer, keras.layers.Activation):
        return getattr(layer.activation, "__name__", "") in ("relu", "relu6", "linear")
    return False


def sublayers(layer):
    """Every layer inside ``layer``, depth first, each once (``layer`` itself not included).

    A model's ``layers`` and, for any layer, the layers its public attributes hold (a
    ``Wrapper``'s ``layer``, ``Bidirectional``'s ``forward_layer``, an RNN in a custom
    layer): the public counterpart of Keras' private layer tracking.

    Example:
        >>> inputs = keras.Input((6, 3), name="steps")
        >>> rnn = keras.layers.Bidirectional(keras.layers.GRU(4, name="gru"), name="both")
        >>> model = keras.Model(inputs, rnn(inputs))
        >>> [layer.name for layer in keras_segen.quantization.sublayers(model)]
        ['steps', 'both', 'forward_gru', 'gru_cell', 'backward_gru', 'gru_cell']
    """
    found, seen = [], {id(layer)}

    def visit(parent):
        children = list(parent.layers) if isinstance(parent, keras.Model) else []
        for name, value in vars(parent).items():
            if not name.startswith("_"):
                values = value if isinstance(value, (list, tuple)) else [value]
                children += [v for v in values if isinstance(v, keras.layers.Layer)]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                found.append(child)
                visit(child)

    visit(layer)
    return found


def _is_fake_quantized(model):
    return any(isinstance(layer, (FakeQuant, FakeQuantKernel)) for layer in sublayers(model))


def _consumers(model):
    """``{id(layer): [layers called on its outputs]}`` over ``model``'s graph and the graphs of
    the functional models nested in it, found by rebuilding it once with the same layers."""
    consumers, producers = {}, {}

    def call(layer, *args, **kwargs):
        for tensor in keras.tree.flatten((args, kwargs)):
            if id(tensor) in producers:
                consumers.setdefault(producers[id(tensor)][1], []).append(layer)
        outputs = layer(*args, **kwargs)
        for tensor in keras.tree.flatten(outputs):
            producers[id(tensor)] = (tensor, id(layer))  # the tensor kept: its id stays unique
        return outputs

    keras.models.clone_model(
        model, clone_function=lambda layer: layer, call_function=call, recursive=True
    )
    return consumers


def quantization_aware(model, momentum=0.99):
    """A view of ``model`` that trains under simulated int8 rounding (shares its weights).

    Kernels of ``Conv2D``, ``DepthwiseConv2D``, ``Conv2DTranspose`` and ``Dense`` layers are
    rounded per output channel; the output of every other layer (and of those) is rounded
    per tensor unless TFLite fuses the next op into it (BatchNorm, ReLU, ReLU6). Ranges are
    running averages of the training batches' extremes (``momentum``). Fine-tune the view
    briefly with a small learning rate, then export ``model`` (or the view) to int8: the
    export calibrates as usual, on weights that learned to tolerate the rounding.

    Args:
        model: a functional Keras model (nested functional models are rewritten too).
        momentum: running-average momentum of the activation ranges.

    Returns:
        A functional ``keras.Model`` with the same inputs and outputs.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=2, filters=4, depth=2)
        >>> view = keras_segen.quantization_aware(model)
        >>> view.compile("adam", keras_segen.losses.CrossEntropy())
        >>> images = np.random.default_rng(0).random((4, 32, 32, 3), "float32")
        >>> _ = view.fit(images, np.zeros((4, 32, 32), "int32"), verbose=0)
        >>> keras_segen.without_fake_quantization(view).count_params() == model.count_params()
        True
    """
    if not (isinstance(model, keras.Model) and isinstance(model, keras.Function)):  # a graph
        raise ValueError(
            f"quantization_aware rewrites functional models; got {type(model).__name__} "
            f"{getattr(model, 'name', '')!r}."
        )
    if _is_fake_quantized(model):
        raise ValueError(f"{model.name} is already quantization-aware.")
    consumers = _consumers(model)

    def clone(layer):
        if kernel_reduction_axes(layer) is not None:
            return FakeQuantKernel(layer, name=f"{layer.name}_fake_quant_kernel")
        return layer

    def call(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        inner = layer.layer if isinstance(layer, FakeQuantKernel) else layer
        following = consumers.get(id(inner), [])
        fused = following and all(map(_fused_into_producer, following))
        if fused or isinstance(inner, keras.Model):
            return outputs
        flat = keras.tree.flatten(outputs)
        rounded = [
            FakeQuant(momentum, name=f"{inner.name}_fake_quant" + (f"_{i}" if i else ""))(tensor)
            if "float" in str(tensor.dtype)
            else tensor
            for i, tensor in enumerate(flat)
        ]
        return keras.tree.pack_sequence_as(outputs, rounded)

    return keras.models.clone_model(model, clone_function=clone, call_function=call, recursive=True)


def without_fake_quantization(model):
    """The float model of a ``quantization_aware`` view (sharing its weights); any other
    model is returned as it is.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=2, filters=4, depth=2)
        >>> view = keras_segen.quantization_aware(model)
        >>> plain = keras_segen.without_fake_quantization(view)
        >>> sorted({type(layer).__name__ for layer in plain.layers} & {"FakeQuant"})
        []
    """
    if not _is_fake_quantized(model):
        return model

    def clone(layer):
        return layer.layer if isinstance(layer, FakeQuantKernel) else layer

    def call(layer, *args, **kwargs):
        return args[0] if isinstance(layer, FakeQuant) else layer(*args, **kwargs)

    return keras.models.clone_model(model, clone_function=clone, call_function=call, recursive=True)


def group_norm_equalised(model, inputs):
    """``model``, or a copy sharing all its layers but the ``Conv2D`` layers that feed only a
    ``GroupNormalization``, whose output channels are scaled down so that no group's
    standard deviation on ``inputs`` exceeds ``100 * sqrt(epsilon)`` of that GroupNorm.

    GroupNorm divides each group by its own standard deviation, so the copy computes what
    ``model`` does (to about 5e-5 of each normalised value; groups already below the bound
    are left as they are, so epsilon keeps its share). What changes is the tensor between
    the two layers, which int8 TFLite quantizes with one scale: after training, its groups'
    scales can differ hundreds of times, leaving most groups below one int8 step (SMP's
    FPN decoder on EfficientNet-B0: three groups in four). ``to_tflite(..., "int8")`` calls
    this before calibrating; the float exports never do.

    Args:
        model: a functional Keras model; only its top-level layers are looked at.
        inputs: calibration inputs, an array (one input) or a list of arrays.

    Example:
        >>> inputs = keras.Input((8, 8, 3))
        >>> conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)
        >>> model = keras.Model(inputs, keras.layers.GroupNormalization(2)(conv(inputs)))
        >>> images = np.random.default_rng(0).random((2, 8, 8, 3), "float32")
        >>> _ = conv.kernel.assign(conv.kernel * np.array([1000.0, 1000.0, 1.0, 1.0]))
        >>> copy = keras_segen.quantization.group_norm_equalised(model, images)
        >>> bool(np.allclose(copy(images), model(images), atol=1e-3))
        True
        >>> probe = keras.Model(copy.input, copy.get_layer(conv.name).output)
        >>> groups = np.asarray(probe(images)).reshape(-1, 2, 2)  # GroupNorm's 2 groups
        >>> [round(float(d), 2) for d in groups.std(axis=(0, 2))]  # 100 * sqrt(1e-3) at most
        [3.16, ...]
    """
    if not (
        isinstance(model, keras.Model)
        and isinstance(model, keras.Function)
        and any(isinstance(layer, keras.layers.GroupNormalization) for layer in model.layers)
    ):
        return model
    consumers = _consumers(model)
    pairs = []
    for layer in model.layers:
        following = consumers.get(id(layer), [])
        if (
            type(layer) is keras.layers.Conv2D
            and len(following) == 1
            and isinstance(following[0], keras.layers.GroupNormalization)
            and following[0].axis in (-1, 3)
        ):
            pairs.append((layer, following[0]))
    if not pairs:
        return model
    probe = keras.Model(model.input, [conv.output for conv, _ in pairs])
    outputs = probe.predict(inputs, batch_size=16, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    scales = {}
    for (conv, norm), output in zip(pairs, outputs):
        grouped = output.reshape(-1, norm.groups, output.shape[-1] // norm.groups)
        deviation = grouped.std(axis=(0, 2))
        bound = 100 * norm.epsilon**0.5
        per_group = np.minimum(1.0, bound / np.maximum(deviation, bound))
        if (per_group < 1).any():
            scales[conv.name] = np.repeat(per_group, output.shape[-1] // norm.groups)
    if not scales:
        return model

    def clone(layer):
        if layer.name not in scales:
            return layer
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for conv, _ in pairs:
        if conv.name in scales:
            weights = [w * scales[conv.name] for w in conv.get_weights()]  # kernel, bias
            copy.get_layer(conv.name).set_weights(weights)
    return copy
