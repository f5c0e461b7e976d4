"""DCGAN generator and discriminator (Radford, Metz & Chintala, ICLR 2016)."""

import math

import keras
from keras import layers

from keras_segen.layers import spectral_norm
from keras_segen.models.validation import check_choice, check_int

NORMS = ("batch", "layer", None)
PROJECT_NORMS = ("channel", "unit")
UPSAMPLINGS = ("transpose", "nearest")
SIZES = (32, 64, 128, 256)


def initial_weights():
    """The paper's initialisation: zero-centred normal with standard deviation 0.02."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def batch_norm(name):
    """BatchNorm as in the papers' code: gamma from N(1, 0.02), running averages with
    momentum 0.9 (Torch's 0.1), so inference statistics catch up within a short run."""
    return layers.BatchNormalization(
        momentum=0.9, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02), name=name
    )


def check_image_shape(builder, image_shape):
    """``(S, S, C)`` with S a power of two in 32..256 and C 1 or 3; returns the tuple."""
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3:
        raise ValueError(
            f"{builder}: image_shape must be (size, size, channels); got {image_shape!r}."
        )
    height, width, channels = image_shape
    if height != width or height not in SIZES:
        raise ValueError(
            f"{builder}: image_shape must be square with a side in {SIZES}; "
            f"got {tuple(image_shape)}."
        )
    if channels not in (1, 3):
        raise ValueError(f"{builder}: image_shape channels must be 1 or 3; got {channels!r}.")
    return tuple(image_shape)


def dcgan_generator(
    latent_dim=128,
    image_shape=(64, 64, 3),
    filters=128,
    kernel_size=4,
    use_bias=True,
    project_norm="channel",
    upsampling="transpose",
    name="dcgan_generator",
):
    """Builds the DCGAN generator.

    Radford et al., "Unsupervised Representation Learning with Deep Convolutional
    Generative Adversarial Networks", ICLR 2016. The latent vector is projected and
    reshaped to 4x4, then fractionally-strided (transposed) convolutions double the size
    and halve the width until the image size, with BatchNorm and ReLU after every layer
    but the last, which has ``tanh``. Weights start from N(0, 0.02).

    The ``paper`` preset is the authors' network (Newmu/dcgan_code,
    ``faces/train_uncond_dcgan.py``: ``nz=100, ngf=128``, 5x5 kernels, no biases, the
    projection batch-normalised per unit before the reshape): 18,885,760 parameters.
    The defaults differ in 4x4 kernels (no checkerboard from uneven overlap at stride 2),
    per-channel BatchNorm of the projection and a bias on the output layer.

    Args:
        latent_dim: size of the latent vector.
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        filters: width of the last hidden layer; each earlier layer doubles it
            (128 gives the paper's 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 at 64x64).
        kernel_size: transposed-convolution kernel (4 by default; 5 in the authors' code).
        use_bias: a bias on the output layer (the authors' code has none).
        project_norm: BatchNorm of the 4x4 projection per ``"channel"`` (after the
            reshape) or per ``"unit"`` of the dense output (before it, as the authors).
        upsampling: ``"transpose"`` (stride-2 transposed convolutions, the paper) or
            ``"nearest"`` (nearest-neighbour doubling, then a stride-1 convolution: no
            checkerboard pattern; Odena, Dumoulin & Olah, Distill 2016).
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(B, latent_dim)`` to images ``(B, S, S, C)``
        in [-1, 1], float32 even under a mixed-precision policy.

    Example:
        >>> generator = keras_segen.dcgan_generator(latent_dim=100, image_shape=(64, 64, 3))
        >>> images = generator(keras.random.normal((2, 100)))
        >>> images.shape, -1 <= float(keras.ops.min(images)), float(keras.ops.max(images)) <= 1
        (TensorShape([2, 64, 64, 3]), True, True)
    """
    builder = "dcgan_generator"
    check_int(builder, "latent_dim", latent_dim)
    check_int(builder, "filters", filters)
    check_int(builder, "kernel_size", kernel_size)
    check_choice(builder, "project_norm", project_norm, PROJECT_NORMS)
    check_choice(builder, "upsampling", upsampling, UPSAMPLINGS)
    size, _, channels = check_image_shape(builder, image_shape)

    latent = keras.Input((latent_dim,), name="latent")
    image = generator_body(
        latent, size, channels, filters, kernel_size, use_bias, project_norm, upsampling
    )
    return keras.Model(latent, image, name=name)


def _upsample(x, width, kernel_size, use_bias, upsampling, index):
    """Doubles the size: a stride-2 transposed convolution, or nearest doubling + a convolution."""
    arguments = dict(padding="same", use_bias=use_bias, kernel_initializer=initial_weights(),
                     name=f"up{index}_conv")  # fmt: skip
    if upsampling == "transpose":
        return layers.Conv2DTranspose(width, kernel_size, strides=2, **arguments)(x)
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{index}_resize")(x)
    return layers.Conv2D(width, kernel_size, **arguments)(x)


def generator_body(
    vector, size, channels, filters=128, kernel_size=4, use_bias=True, project_norm="channel",
    upsampling="transpose",
):  # fmt: skip
    """The DCGAN generator body on a ``(B, D)`` tensor: project to 4x4, upsample to ``size``.

    Shared by the unconditional and the class-conditional generators and the VAE decoder;
    returns the float32 ``tanh`` image tensor ``(B, size, size, channels)``.
    """
    upsamplings = int(math.log2(size // 4))
    width = filters * 2 ** (upsamplings - 1)
    x = layers.Dense(
        4 * 4 * width, use_bias=False, kernel_initializer=initial_weights(), name="project"
    )(vector)
    if project_norm == "unit":
        x = batch_norm("project_bn")(x)
    x = layers.Reshape((4, 4, width), name="reshape")(x)
    if project_norm == "channel":
        x = batch_norm("project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for index in range(1, upsamplings):
        width //= 2
        x = _upsample(x, width, kernel_size, False, upsampling, index)
        x = batch_norm(f"up{index}_bn")(x)
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = _upsample(x, channels, kernel_size, use_bias, upsampling, upsamplings)
    return layers.Activation("tanh", dtype="float32", name="image")(x)


def strided_features(
    image, filters=64, norm="batch", kernel_size=4, use_bias=True, spectral_normalization=False
):
    """The DCGAN discriminator body: stride-2 convolutions down to 4x4, ``(B, 4, 4, W)``.

    The width doubles at every stride; LeakyReLU(0.2) everywhere; ``norm`` on every layer
    but the first, a bias (if ``use_bias``) where there is no norm; each convolution
    spectrally normalised if ``spectral_normalization``. Shared by the discriminators and
    the VAE encoder.
    """
    x = image
    for index in range(1, int(math.log2(image.shape[1] // 4)) + 1):
        convolution = layers.Conv2D(
            filters * 2 ** (index - 1),
            kernel_size,
            strides=2,
            padding="same",
            use_bias=use_bias and (index == 1 or norm is None),
            kernel_initializer=initial_weights(),
            name=f"down{index}_conv",
        )
        x = spectral_norm(convolution, spectral_normalization)(x)
        if index > 1 and norm == "batch":
            x = batch_norm(f"down{index}_bn")(x)
        elif index > 1 and norm == "layer":
            x = layers.LayerNormalization(axis=(1, 2, 3), name=f"down{index}_ln")(x)
        x = layers.LeakyReLU(0.2, name=f"down{index}_lrelu")(x)
    return x


def dcgan_discriminator(
    image_shape=(64, 64, 3),
    filters=64,
    norm="batch",
    kernel_size=4,
    use_bias=True,
    spectral_normalization=False,
    name="dcgan_discriminator",
):
    """Builds the DCGAN discriminator (or a WGAN-GP critic with ``norm="layer"`` or ``None``).

    Radford et al., ICLR 2016: strided convolutions (no pooling) halve the size and double
    the width down to 4x4, with LeakyReLU(0.2) everywhere and BatchNorm on every layer but
    the first; a dense layer gives one logit. Gulrajani et al. (2017) advise against
    BatchNorm in a critic trained with a gradient penalty, hence ``norm``; Miyato et al.
    (ICLR 2018) normalise every weight by its spectral norm instead.

    The paper gives no discriminator widths; the ``paper`` preset is the authors' network
    (Newmu/dcgan_code, ``faces/train_uncond_dcgan.py``: ``ndf=128``, 5x5 kernels, no
    biases): 128-256-512-1024 to 4x4 at 64x64, 17,232,768 parameters.

    Args:
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        filters: width of the first layer (128 in the authors' code).
        norm: ``"batch"`` (the paper), ``"layer"`` or ``None``.
        kernel_size: convolution kernel (4 by default; 5 in the authors' code).
        use_bias: biases on the first convolution and the logit (the authors' code has none).
        spectral_normalization: wrap every convolution and the logit layer in
            ``keras_segen.layers.SpectralNorm`` (SN-GAN; usually with ``norm=None``).
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping images in [-1, 1] to logits ``(B, 1)``
        (float32 even under a mixed-precision policy).

    Example:
        >>> discriminator = keras_segen.dcgan_discriminator((64, 64, 3))
        >>> discriminator.output_shape  # one logit per image
        (None, 1)
    """
    builder = "dcgan_discriminator"
    check_int(builder, "filters", filters)
    check_int(builder, "kernel_size", kernel_size)
    check_choice(builder, "norm", norm, NORMS)
    check_image_shape(builder, image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    x = strided_features(image, filters, norm, kernel_size, use_bias, spectral_normalization)
    x = layers.Flatten(name="flatten")(x)
    logit = layers.Dense(1, use_bias=use_bias, kernel_initializer=initial_weights(), name="logit")
    logits = spectral_norm(logit, spectral_normalization)(x)
    logits = layers.Activation("linear", dtype="float32", name="output")(logits)
    return keras.Model(image, logits, name=name)


PAPER = (
    "Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
    "Convolutional Generative Adversarial Networks, ICLR 2016"
)
PRESETS = {
    "dcgan_generator": {
        "paper": {
            "description": "100-d latent -> 4x4x1024 ... 64x64x3 (Fig. 1 of the paper) with "
            "the authors' 5x5 kernels, no biases and per-unit BN of the projection "
            "(dcgan_code faces/train_uncond_dcgan.py): 18,885,760 parameters",
            "config": {
                "latent_dim": 100, "image_shape": (64, 64, 3), "filters": 128,
                "kernel_size": 5, "use_bias": False, "project_norm": "unit",
            },
        },
        "tiny": {
            "description": "8-d latent, 4 filters, 32x32 (tests)",
            "config": {"latent_dim": 8, "image_shape": (32, 32, 3), "filters": 4},
        },
    },
    "dcgan_discriminator": {
        "paper": {
            "description": "64x64x3 -> 128, 256, 512, 1024 strided 5x5 convolutions -> 1 "
            "logit, no biases (dcgan_code faces/train_uncond_dcgan.py, ndf=128): "
            "17,232,768 parameters",
            "config": {
                "image_shape": (64, 64, 3), "filters": 128, "kernel_size": 5, "use_bias": False,
            },
        },
        "tiny": {
            "description": "4 filters at 32x32 (tests)",
            "config": {"image_shape": (32, 32, 3), "filters": 4},
        },
    },
}  # fmt: skip
