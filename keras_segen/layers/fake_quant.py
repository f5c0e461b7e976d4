"""Fake quantization: int8 rounding simulated in float, for quantization-aware training.

The rounding is TFLite's full-integer scheme (``to_tflite(..., "int8")``): weights
symmetric per output channel on ``[-127, 127]`` with scale ``max|w| / 127``; activations
asymmetric per tensor on 256 levels over a range that contains zero. Gradients pass
straight through the rounding (Jacob et al., CVPR 2018, section 3).
"""

import keras
from keras import ops

from keras_segen.layers.kernel_call import call_with_kernel

# Axes reduced to find each output channel's largest weight, per kernel layout.
KERNEL_REDUCTION_AXES = {
    keras.layers.Conv2D: (0, 1, 2),  # (kh, kw, in, out)
    keras.layers.DepthwiseConv2D: (0, 1),  # (kh, kw, in, multiplier): in x multiplier outputs
    keras.layers.Conv2DTranspose: (0, 1, 3),  # (kh, kw, out, in)
    keras.layers.Dense: (0,),  # (in, out)
}


def kernel_reduction_axes(layer):
    """The axes to reduce for per-output-channel weight ranges of ``layer``, or ``None`` for a
    layer without a kernel that is quantized per channel."""
    for kind, axes in KERNEL_REDUCTION_AXES.items():
        if type(layer) is kind:
            return axes
    return None


def fake_quantized_kernel(kernel, axes):
    """``kernel`` rounded as TFLite's per-channel int8 weights, gradients straight through.

    Example:
        >>> kernel = np.array([[1.0, 0.5], [0.3, -0.25]], "float32")  # Dense (in, out)
        >>> rounded = keras_segen.layers.fake_quantized_kernel(kernel, (0,))
        >>> keras.ops.convert_to_numpy(rounded).astype(float).round(4).tolist()
        [[1.0, 0.5], [0.2992, -0.252]]
    """
    kernel = ops.convert_to_tensor(kernel)
    bound = ops.stop_gradient(ops.max(ops.abs(kernel), axis=axes, keepdims=True))
    scale = ops.maximum(bound, 1e-12) / 127.0
    rounded = ops.round(kernel / scale) * scale
    return kernel + ops.stop_gradient(rounded - kernel)


@keras.saving.register_keras_serializable(package="keras_segen")
class FakeQuantKernel(keras.layers.Wrapper):
    """Runs a ``Conv2D``, ``DepthwiseConv2D``, ``Conv2DTranspose`` or ``Dense`` with its kernel
    rounded to int8 per output channel (the stored kernel stays float and is what trains).

    A BatchNorm after the layer multiplies each output channel by a constant, which the
    per-channel rounding commutes with, so this also simulates the folded kernel TFLite
    quantizes.

    Example:
        >>> dense = keras.layers.Dense(2, use_bias=False)
        >>> layer = keras_segen.layers.FakeQuantKernel(dense)
        >>> _ = layer(np.ones((1, 3), "float32"))
        >>> dense.set_weights([np.array([[1.0, 0.5], [0.3, -0.25], [0.0, 0.0]], "float32")])
        >>> outputs = layer(np.eye(3, dtype="float32"))  # the rows of the rounded kernel
        >>> keras.ops.convert_to_numpy(outputs).astype(float).round(4).tolist()
        [[1.0, 0.5], [0.2992, -0.252], [0.0, 0.0]]
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        if kernel_reduction_axes(layer) is None:
            kinds = ", ".join(kind.__name__ for kind in KERNEL_REDUCTION_AXES)
            raise ValueError(f"FakeQuantKernel wraps {kinds} layers; got {type(layer).__name__}.")

    def call(self, inputs):
        layer = self.layer
        kernel = fake_quantized_kernel(layer.kernel, kernel_reduction_axes(layer))
        return call_with_kernel(layer, inputs, kernel, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


@keras.saving.register_keras_serializable(package="keras_segen")
class FakeQuant(keras.layers.Layer):
    """Rounds a tensor to int8 over the range it has been seen to take (identity until then).

    In training the range is the batch's minimum and maximum, averaged over batches with
    ``momentum`` (the first batch sets it); at inference the stored range is used. The
    range always contains zero, as TFLite's. Range variables are not trained.

    Example:
        >>> layer = keras_segen.layers.FakeQuant()
        >>> x = np.array([[0.0, 0.304, 2.55]], "float32")  # range [0, 2.55]: steps of 0.01
        >>> keras.ops.convert_to_numpy(layer(x, training=True)).astype(float).round(4).tolist()
        [[0.0, 0.3, 2.55]]
    """

    def __init__(self, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}.")
        self.momentum = momentum

    def build(self, input_shape):
        def scalar(name):
            return self.add_weight(shape=(), initializer="zeros", trainable=False, name=name)

        self.minimum, self.maximum = scalar("minimum"), scalar("maximum")
        self.observed = scalar("observed")

    def call(self, inputs, training=False):
        low, high, observed = self.minimum, self.maximum, self.observed
        if training:
            first = ops.equal(self.observed, 0.0)
            batch_low = ops.stop_gradient(ops.min(inputs))
            batch_high = ops.stop_gradient(ops.max(inputs))
            m = self.momentum
            low = ops.where(first, batch_low, m * self.minimum + (1.0 - m) * batch_low)
            high = ops.where(first, batch_high, m * self.maximum + (1.0 - m) * batch_high)
            self.minimum.assign(low)
            self.maximum.assign(high)
            self.observed.assign(1.0)
            observed = 1.0
        low = ops.minimum(ops.convert_to_tensor(low), 0.0)
        high = ops.maximum(ops.maximum(ops.convert_to_tensor(high), 0.0), low + 1e-6)
        quantized = keras.quantizers.fake_quant_with_min_max_vars(inputs, low, high, num_bits=8)
        return ops.where(ops.greater(observed, 0.0), quantized, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}
