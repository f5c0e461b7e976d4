"""SPADE: spatially-adaptive denormalisation (Park, Liu, Wang & Zhu, CVPR 2019)."""

import keras
import numpy as np
from keras import layers, ops

SPADE_NORMS = ("batch", "instance")


def nearest_resize_like_torch(images, height, width):
    """``images`` resized nearest-neighbour the way PyTorch's ``F.interpolate`` does it.

    Output pixel ``i`` takes input pixel ``floor(i * in / out)`` (TensorFlow's nearest
    resize samples half-pixel centres instead, a one-pixel shift at every integer factor).
    Whole-number factors are strided slices; other sizes gather rows and columns. Both
    export to the built-in TFLite op set.

    Example:
        >>> label_map = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> small = keras_segen.layers.nearest_resize_like_torch(label_map, 2, 2)
        >>> keras.ops.convert_to_numpy(small)[0, :, :, 0].tolist()  # rows 0, 2; columns 0, 2
        [[0.0, 2.0], [8.0, 10.0]]
    """
    for axis, size in ((1, height), (2, width)):
        source = images.shape[axis]
        if source == size:
            continue
        if source % size == 0:
            step = source // size
            images = images[:, ::step] if axis == 1 else images[:, :, ::step]
        else:
            indices = (np.arange(size) * source) // size
            images = ops.take(images, ops.convert_to_tensor(indices, "int32"), axis=axis)
    return images


@keras.saving.register_keras_serializable(package="keras_segen")
class NearestResize(keras.layers.Layer):
    """Resizes to a fixed ``(height, width)`` with ``nearest_resize_like_torch``.

    Example:
        >>> layer = keras_segen.layers.NearestResize(4, 8)
        >>> layer(np.zeros((2, 32, 64, 5))).shape
        TensorShape([2, 4, 8, 5])
    """

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width

    def call(self, images):
        return nearest_resize_like_torch(images, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def xavier_normal(gain=0.02):
    """The SPADE authors' initialiser: ``xavier_normal_(gain=0.02)``, i.e. a normal with
    standard deviation ``gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> kernel = keras_segen.layers.xavier_normal()((3, 3, 64, 64))  # fans 576 + 576
        >>> round(float(np.std(keras.ops.convert_to_numpy(kernel))) / (0.02 / 24), 1)
        1.0
    """
    return keras.initializers.VarianceScaling(gain**2, "fan_avg", "untruncated_normal")


@keras.saving.register_keras_serializable(package="keras_segen")
class SPADE(keras.layers.Layer):
    """Normalises ``x`` without an affine transform, then modulates it from a label map.

    Park et al. 2019 (NVlabs/SPADE ``normalization.SPADE``): ``x`` goes through a
    parameter-free BatchNorm (the authors' generator default) or instance norm; the label
    map is resized (nearest, as PyTorch does) to ``x``'s size and passed through a shared
    ``kernel_size`` convolution with ``hidden`` channels and ReLU, from which two
    convolutions give per-pixel ``gamma`` and ``beta`` of ``x``'s width; the output is
    ``norm(x) * (1 + gamma) + beta``.

    Call it on ``[x, label_map]``: ``x`` ``(B, h, w, C)``, the one-hot label map
    ``(B, H, W, K)`` with static ``H >= h`` and ``W >= w``.

    Args:
        hidden: channels of the shared convolution (128 in the paper).
        kernel_size: size of the three convolutions (3: ``spade...3x3``).
        norm: ``"batch"`` (``spadesyncbatch3x3``, the generator's default) or
            ``"instance"`` (``spadeinstance3x3``).
        epsilon: the norm's epsilon (PyTorch's 1e-5).

    Example:
        >>> spade = keras_segen.layers.SPADE(hidden=16)
        >>> features = np.random.default_rng(0).normal(size=(2, 8, 8, 32))
        >>> label_map = np.eye(5)[np.random.default_rng(1).integers(0, 5, (2, 32, 32))]
        >>> spade([features, label_map]).shape  # x's shape, modulated by the labels
        TensorShape([2, 8, 8, 32])
    """

    def __init__(self, hidden=128, kernel_size=3, norm="batch", epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if norm not in SPADE_NORMS:
            raise ValueError(f"SPADE: norm must be one of {SPADE_NORMS}; got {norm!r}.")
        self.hidden = hidden
        self.kernel_size = kernel_size
        self.norm = norm
        self.epsilon = epsilon
        norm_options = dict(epsilon=epsilon, center=False, scale=False, name="norm",
                            dtype=self.dtype_policy)  # fmt: skip
        if norm == "batch":  # Torch's momentum 0.1 is Keras' 0.9
            self.normalization = layers.BatchNormalization(momentum=0.9, **norm_options)
        else:  # one group per channel: instance normalisation
            self.normalization = layers.GroupNormalization(groups=-1, **norm_options)
        self.shared = self._convolution(hidden, "shared", activation="relu")
        self.gamma = None
        self.beta = None

    def _convolution(self, filters, name, activation=None):
        # A fresh initialiser each: an unseeded Keras initialiser repeats its draws, so a
        # shared one would give gamma and beta the same starting kernel.
        return layers.Conv2D(
            filters,
            self.kernel_size,
            padding="same",
            activation=activation,
            kernel_initializer=xavier_normal(),
            name=name,
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        x_shape, label_shape = input_shape
        if None in (*x_shape[1:3], *label_shape[1:3]):
            raise ValueError(
                "SPADE needs features and a label map of static height and width; got "
                f"{tuple(x_shape)} and {tuple(label_shape)}."
            )
        channels = x_shape[-1]
        self.gamma = self._convolution(channels, "gamma")
        self.beta = self._convolution(channels, "beta")
        self.normalization.build(x_shape)
        hidden_shape = (*x_shape[:-1], self.hidden)
        self.shared.build((*x_shape[:-1], label_shape[-1]))
        self.gamma.build(hidden_shape)
        self.beta.build(hidden_shape)

    def call(self, inputs, training=None):
        x, label_map = inputs
        normalized = self.normalization(x, training=training)
        label_map = nearest_resize_like_torch(label_map, x.shape[1], x.shape[2])
        hidden = self.shared(ops.cast(label_map, self.compute_dtype))
        return normalized * (1.0 + self.gamma(hidden)) + self.beta(hidden)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "hidden": self.hidden,
            "kernel_size": self.kernel_size,
            "norm": self.norm,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_segen")
class AveragePoolingExcludingPadding2D(keras.layers.Layer):
    """Average pooling with symmetric zero padding that the averages do not count.

    PyTorch's ``avg_pool2d(kernel, stride, padding, count_include_pad=False)``, which the
    SPADE discriminator uses between scales: ``padding`` pixels on every side, each window
    averaged over its real pixels only. (Keras' ``padding="same"`` pads after the input
    only, shifting the windows by a pixel.)

    Example:
        >>> pool = keras_segen.layers.AveragePoolingExcludingPadding2D(3, 2, 1)
        >>> image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> keras.ops.convert_to_numpy(pool(image))[0, :, :, 0].round(4).tolist()
        [[2.5, 4.0], [8.5, 10.0]]
    """

    def __init__(self, pool_size=3, strides=2, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding

    def _pool(self, x):
        pad = self.padding
        x = ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        return ops.average_pool(x, self.pool_size, self.strides, padding="valid")

    def call(self, x):
        counts = self._pool(ops.ones_like(x[..., :1]))
        return self._pool(x) / counts

    def compute_output_shape(self, input_shape):
        def pooled(size):
            if size is None:
                return None
            return (size + 2 * self.padding - self.pool_size) // self.strides + 1

        return (input_shape[0], pooled(input_shape[1]), pooled(input_shape[2]), input_shape[3])

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
        }
