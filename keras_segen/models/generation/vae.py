"""Convolutional VAE encoder and decoder (Kingma & Welling, ICLR 2014)."""

import keras
from keras import layers

from keras_segen.models.generation.dcgan import (
    check_image_shape,
    dcgan_generator,
    strided_features,
)
from keras_segen.models.validation import check_int


def vae_encoder(image_shape=(64, 64, 3), latent_dim=128, filters=32, name="vae_encoder"):
    """Builds a convolutional VAE encoder: image -> ``(z_mean, z_log_var)``.

    Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, with the Gaussian
    approximate posterior parameterised by a CNN: the DCGAN discriminator body (stride-2
    convolutions down to 4x4, BatchNorm, LeakyReLU), then two dense heads for the mean
    and the log-variance.

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
        >>> z_mean, z_log_var = encoder(np.zeros((2, 64, 64, 3)))
        >>> z_mean.shape, z_log_var.shape
        (TensorShape([2, 64]), TensorShape([2, 64]))
    """
    builder = "vae_encoder"
    check_int(builder, "latent_dim", latent_dim)
    check_int(builder, "filters", filters)
    check_image_shape(builder, image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    x = layers.Flatten(name="flatten")(strided_features(image, filters))
    z_mean = layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
    return keras.Model(image, [z_mean, z_log_var], name=name)


def vae_decoder(latent_dim=128, image_shape=(64, 64, 3), filters=32, name="vae_decoder"):
    """Builds a convolutional VAE decoder: latent -> image in [-1, 1] (``tanh``).

    The DCGAN generator architecture (``dcgan_generator``): a dense projection to 4x4,
    stride-2 transposed convolutions (BatchNorm, ReLU) halving the width, ``tanh`` output.

    Args:
        latent_dim: size of the latent vector.
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        filters: width of the last hidden layer; each earlier layer doubles it.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``(B, latent_dim)`` -> ``(B, S, S, C)`` in [-1, 1].

    Example:
        >>> decoder = keras_segen.vae_decoder(64, (64, 64, 3))
        >>> decoder.input_shape, decoder.output_shape
        ((None, 64), (None, 64, 64, 3))
    """
    return dcgan_generator(latent_dim, image_shape, filters, name=name)


PAPER = "Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014"
# No "paper" preset: the paper's networks are MLPs; these are convolutional.
PRESETS = {
    "vae_encoder": {
        "tiny": {
            "description": "4 filters, 4-d latent at 32x32 (tests)",
            "config": {"image_shape": (32, 32, 3), "latent_dim": 4, "filters": 4},
        },
    },
    "vae_decoder": {
        "tiny": {
            "description": "4 filters, 4-d latent at 32x32 (tests)",
            "config": {"latent_dim": 4, "image_shape": (32, 32, 3), "filters": 4},
        },
    },
}  # fmt: skip
