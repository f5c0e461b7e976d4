"""Quantization-aware fine-tuning: train a model under simulated int8 rounding, then export
it with ``to_tflite(..., "int8")`` as usual.

``quantization_aware(model)`` returns a training view of ``model`` that shares its layers
and weights: kernels are rounded per output channel and every tensor TFLite keeps in int8
is rounded over its observed range (``keras_segen.layers.FakeQuant``). Fine-tuning the
view fine-tunes ``model`` itself; ``without_fake_quantization`` gives the float model back
from a view (also from one loaded from a ``.keras`` file), and every export does that
first. Keras only: the fine-tuning runs on any backend.
"""

import keras

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


def _all_layers(model):
    return [model, *model._flatten_layers(include_self=False, recursive=True)]


def _is_fake_quantized(model):
    return any(isinstance(layer, (FakeQuant, FakeQuantKernel)) for layer in _all_layers(model))


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
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise ValueError(
            f"quantization_aware rewrites functional models; got {type(model).__name__} "
            f"{getattr(model, 'name', '')!r}."
        )
    if _is_fake_quantized(model):
        raise ValueError(f"{model.name} is already quantization-aware.")
    consumers = {}
    for layer in _all_layers(model):
        consumers[id(layer)] = [node.operation for node in layer._outbound_nodes]

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
