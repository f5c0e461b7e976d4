"""Spectral normalisation of a layer's kernel (Miyato, Kataoka, Koyama & Yoshida, ICLR 2018)."""

import keras
from keras import ops

from keras_segen.layers.kernel_call import call_with_kernel

NORMALIZABLE = (keras.layers.Conv2D, keras.layers.Dense, keras.layers.Embedding)


def _unit(vector, epsilon=1e-12):
    return vector / ops.sqrt(ops.sum(ops.square(vector)) + epsilon)


@keras.saving.register_keras_serializable(package="keras_segen")
class SpectralNorm(keras.layers.Wrapper):
    """Runs a ``Conv2D``, ``Dense`` or ``Embedding`` with its kernel divided by its spectral norm.

    The largest singular value ``sigma`` of the kernel (reshaped to ``(-1, out)``) is
    estimated by power iteration from a persistent vector ``u``, which one iteration per
    training call refines (``u`` is not trained; it updates like BatchNorm statistics, on
    every backend). The kernel is divided by ``sigma`` in the forward pass, so gradients
    flow through the normalisation as in the authors' code (``sn_convolution_2d.py``,
    ``sn_linear.py``, ``sn_embed_id.py`` of pfnet-research/sngan_projection), and the
    stored kernel stays the unnormalised one. Unlike ``keras.layers.SpectralNormalization``
    it never assigns the kernel, so it also works inside JAX's stateless train steps.

    Example:
        >>> layer = keras_segen.layers.SpectralNorm(keras.layers.Dense(3, use_bias=False))
        >>> x = np.eye(4, dtype="float32")
        >>> for _ in range(20):  # power iteration converges while training
        ...     _ = layer(x, training=True)
        >>> kernel = keras.ops.convert_to_numpy(layer(x))  # rows of eye(4): W / sigma
        >>> round(float(np.linalg.norm(kernel, 2)), 3)  # spectral norm 1
        1.0
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(layer, NORMALIZABLE):
            raise ValueError(
                "SpectralNorm wraps Conv2D, Dense or Embedding layers; "
                f"got {type(layer).__name__}."
            )
        if not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(f"power_iterations must be an integer >= 1; got {power_iterations!r}.")
        self.power_iterations = power_iterations

    def _kernel(self):
        if isinstance(self.layer, keras.layers.Embedding):
            return self.layer.embeddings
        return self.layer.kernel

    def build(self, input_shape):
        super().build(input_shape)
        self.vector_u = self.add_weight(
            shape=(1, self._kernel().shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            name="vector_u",
        )

    def normalized_kernel(self, training=False):
        """The kernel divided by its estimated spectral norm (refines ``u`` when training)."""
        kernel = ops.convert_to_tensor(self._kernel())
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = ops.convert_to_tensor(self.vector_u)
        for _ in range(self.power_iterations):
            v = _unit(ops.matmul(u, ops.transpose(matrix)))
            u = _unit(ops.matmul(v, matrix))
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        if training:
            self.vector_u.assign(u)
        return kernel / sigma

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training)
        layer = self.layer
        if isinstance(layer, keras.layers.Embedding):
            return ops.take(kernel, ops.cast(inputs, "int32"), axis=0)
        return call_with_kernel(layer, inputs, kernel, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def spectral_norm(layer, enabled=True):
    """``SpectralNorm(layer)`` named ``{layer.name}_sn`` if ``enabled``, else ``layer`` itself.

    Example:
        >>> conv = keras.layers.Conv2D(8, 3, name="down1_conv")
        >>> keras_segen.layers.spectral_norm(conv).name
        'down1_conv_sn'
        >>> keras_segen.layers.spectral_norm(conv, enabled=False) is conv
        True
    """
    return SpectralNorm(layer, name=f"{layer.name}_sn") if enabled else layer
