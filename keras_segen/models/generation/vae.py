"""Convolutional VAE encoder and decoder (Kingma & Welling, ICLR 2014)."""

import math

import keras
from keras import layers

from keras_segen.models.generation.dcgan import check_image_shape
from keras_segen.models.validation import check_int


def vae_encoder(image_shape=(64, 64, 3), latent_dim=128, filters=32, name="vae_encoder"):
    """Builds a convolutional VAE encoder: image -> ``(z_mean, z_log_var)``.

    Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, with the Gaussian
    approximate posterior parameterised by a CNN: stride-2 convolutions (BatchNorm, ReLU)
    down to 4x4, then two dense heads for the mean and the log-variance.

    Args:
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        latent_dim: size of the latent vector.
        filters: width of the first convolution; it doubles at every stride.
        name: model name.

    Returns:
        A functional ``keras.Model``: images in [-1, 1] -> ``[z_mean, z_log_var]``, each
        ``(B, latent_dim)`` float32.

    Example:
        >>> encoder = keras_segen.vae_encoder((64, 64, 3), latent_dim=64)
    """
    builder = "vae_encoder"
    check_int(builder, "latent_dim", latent_dim)
    check_int(builder, "filters", filters)
    size, _, _ = check_image_shape(builder, image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    x = image
    for index in range(1, int(math.log2(size // 4)) + 1):
        x = layers.Conv2D(
            filters * 2 ** (index - 1),
            4,
            strides=2,
            padding="same",
            use_bias=False,
            name=f"down{index}_conv",
        )(x)
        x = layers.BatchNormalization(name=f"down{index}_bn")(x)
        x = layers.ReLU(name=f"down{index}_relu")(x)
    x = layers.Flatten(name="flatten")(x)
    z_mean = layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
    return keras.Model(image, [z_mean, z_log_var], name=name)


def vae_decoder(latent_dim=128, image_shape=(64, 64, 3), filters=32, name="vae_decoder"):
    """Builds a convolutional VAE decoder: latent -> image in [-1, 1] (``tanh``).

    The mirror of ``vae_encoder``: a dense projection to 4x4, stride-2 transposed
    convolutions (BatchNorm, ReLU) halving the width, and a ``tanh`` output layer.

    Args:
        latent_dim: size of the latent vector.
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        filters: width of the last hidden layer; each earlier layer doubles it.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``(B, latent_dim)`` -> ``(B, S, S, C)`` in [-1, 1].

    Example:
        >>> decoder = keras_segen.vae_decoder(64, (64, 64, 3))
    """
    builder = "vae_decoder"
    check_int(builder, "latent_dim", latent_dim)
    check_int(builder, "filters", filters)
    size, _, channels = check_image_shape(builder, image_shape)
    upsamplings = int(math.log2(size // 4))
    latent = keras.Input((latent_dim,), name="latent")
    width = filters * 2 ** (upsamplings - 1)
    x = layers.Dense(4 * 4 * width, name="project")(latent)
    x = layers.Reshape((4, 4, width), name="reshape")(x)
    for index in range(1, upsamplings):
        width //= 2
        x = layers.Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False, name=f"up{index}_conv"
        )(x)
        x = layers.BatchNormalization(name=f"up{index}_bn")(x)
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", name=f"up{upsamplings}_conv"
    )(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(latent, image, name=name)
