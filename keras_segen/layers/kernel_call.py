"""Running a layer with a kernel other than its stored one (normalised, rounded)."""

import keras
from keras import ops


def call_with_kernel(layer, inputs, kernel, dtype):
    """``layer(inputs)`` computed with ``kernel`` in place of ``layer.kernel``: the layer's
    own strides, padding, bias and activation (Dense, Conv2D, DepthwiseConv2D,
    Conv2DTranspose; ``dtype`` is the compute dtype).

    Example:
        >>> dense = keras.layers.Dense(2, activation="relu")
        >>> _ = dense(np.ones((1, 2), "float32"))  # builds: bias 0
        >>> outputs = keras_segen.layers.call_with_kernel(
        ...     dense, np.ones((1, 2), "float32"), -np.eye(2, dtype="float32") + 2, "float32")
        >>> keras.ops.convert_to_numpy(outputs).tolist()
        [[3.0, 3.0]]
    """
    kernel = ops.cast(kernel, dtype)
    if isinstance(layer, keras.layers.Dense):
        outputs = ops.matmul(inputs, kernel)
    elif isinstance(layer, keras.layers.DepthwiseConv2D):
        outputs = ops.depthwise_conv(
            inputs,
            kernel,
            strides=layer.strides,
            padding=layer.padding,
            dilation_rate=layer.dilation_rate,
            data_format=layer.data_format,
        )
    elif isinstance(layer, keras.layers.Conv2DTranspose):
        outputs = ops.conv_transpose(
            inputs,
            kernel,
            strides=list(layer.strides),
            padding=layer.padding,
            output_padding=layer.output_padding,
            dilation_rate=layer.dilation_rate,
            data_format=layer.data_format,
        )
    else:
        outputs = layer.convolution_op(inputs, kernel)
    if layer.use_bias:
        outputs = outputs + ops.cast(layer.bias, dtype)
    return layer.activation(outputs) if layer.activation is not None else outputs
