"""Class-conditional GAN generator and discriminator (Mirza & Osindero 2014)."""

import keras
from keras import layers

from keras_segen.layers import spectral_norm
from keras_segen.models.generation.dcgan import (
    NORMS,
    UPSAMPLINGS,
    check_image_shape,
    generator_body,
    initial_weights,
    strided_features,
)
from keras_segen.models.validation import check_choice, check_int

CONDITIONINGS = ("projection", "concat")


def _label_input():
    return keras.Input((), dtype="int32", name="label")


def conditional_generator(
    latent_dim=128,
    num_classes=10,
    image_shape=(64, 64, 3),
    filters=128,
    embedding_dim=50,
    upsampling="transpose",
    kernel_size=4,
    name="conditional_generator",
):
    """Builds a class-conditional DCGAN generator: ``[latent, label] -> image``.

    Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014: the class label is
    fed to the generator together with the noise. The label is embedded (a learned
    ``Embedding``, equivalent to a dense layer on its one-hot code), concatenated with the
    latent vector, and decoded by the DCGAN generator body (``dcgan_generator``).

    Args:
        latent_dim: size of the latent vector.
        num_classes: number of classes; labels are ints in ``[0, num_classes)``.
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        filters: width of the last hidden layer; each earlier layer doubles it.
        embedding_dim: size of the label embedding.
        upsampling: ``"transpose"`` or ``"nearest"`` (see ``dcgan_generator``).
        kernel_size: kernel of the upsampling convolutions.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``[(B, latent_dim) float, (B,) int] -> (B, S, S, C)``
        in [-1, 1].

    Example:
        >>> generator = keras_segen.conditional_generator(64, 3, image_shape=(32, 32, 3))
        >>> images = generator([keras.random.normal((3, 64)), keras.ops.array([0, 1, 2])])
        >>> images.shape  # one image of each class
        TensorShape([3, 32, 32, 3])
    """
    builder = "conditional_generator"
    check_int(builder, "latent_dim", latent_dim)
    check_int(builder, "num_classes", num_classes)
    check_int(builder, "filters", filters)
    check_int(builder, "embedding_dim", embedding_dim)
    check_int(builder, "kernel_size", kernel_size)
    check_choice(builder, "upsampling", upsampling, UPSAMPLINGS)
    size, _, channels = check_image_shape(builder, image_shape)
    latent = keras.Input((latent_dim,), name="latent")
    label = _label_input()
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
    joint = layers.Concatenate(name="latent_and_label")([latent, embedded])
    image = generator_body(joint, size, channels, filters, kernel_size, upsampling=upsampling)
    return keras.Model([latent, label], image, name=name)


def conditional_discriminator(
    image_shape=(64, 64, 3),
    num_classes=10,
    filters=64,
    norm="batch",
    conditioning="projection",
    spectral_normalization=False,
    name="conditional_discriminator",
):
    """Builds a class-conditional DCGAN discriminator: ``[image, label] -> logit``.

    The body is the DCGAN discriminator (``dcgan_discriminator``). ``conditioning`` says
    how the label enters:

    - ``"projection"`` (Miyato & Koyama, "cGANs with Projection Discriminator", ICLR
      2018): ``logit = w . h + embed(y) . h`` where ``h`` is the last feature map summed
      over its positions (global sum pooling) and ``w`` has no bias, as in the authors'
      ``dis_models/snresnet_32.py``; the class embedding has one entry per channel;
    - ``"concat"`` (Mirza & Osindero 2014): a learned ``S x S`` map per class is
      concatenated to the image as an extra channel; the flattened features give the
      logit.

    The body is DCGAN's strided convolutions, not the authors' residual network;
    ``spectral_normalization=True, norm=None`` gives their normalisation (every
    convolution, ``w`` and the embedding).

    Args:
        image_shape: ``(S, S, C)``; S in 32, 64, 128, 256 and C 1 or 3.
        num_classes: number of classes.
        filters: width of the first convolution (doubles at every stride).
        norm: ``"batch"``, ``"layer"`` or ``None`` (use a non-batch norm for WGAN-GP).
        conditioning: ``"projection"`` or ``"concat"``.
        spectral_normalization: wrap every convolution, the logit layer and the class
            projection in ``keras_segen.layers.SpectralNorm``.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``[(B, S, S, C), (B,) int] -> (B, 1)`` float32 logits.

    Example:
        >>> critic = keras_segen.conditional_discriminator((32, 32, 3), num_classes=3)
        >>> critic([np.zeros((2, 32, 32, 3)), np.array([0, 2])]).shape
        TensorShape([2, 1])
    """
    builder = "conditional_discriminator"
    check_int(builder, "num_classes", num_classes)
    check_int(builder, "filters", filters)
    check_choice(builder, "norm", norm, NORMS)
    check_choice(builder, "conditioning", conditioning, CONDITIONINGS)
    size, _, _ = check_image_shape(builder, image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    label = _label_input()
    x = image
    if conditioning == "concat":
        label_map = layers.Embedding(num_classes, size * size, name="label_map")(label)
        label_map = layers.Reshape((size, size, 1), name="label_map_reshape")(label_map)
        x = layers.Concatenate(name="image_and_label")([image, label_map])
    x = strided_features(x, filters, norm, spectral_normalization=spectral_normalization)
    if conditioning == "projection":
        features = layers.GlobalAveragePooling2D(name="global_pool")(x)
        features = layers.Rescaling(x.shape[1] * x.shape[2], name="global_sum")(features)
    else:
        features = layers.Flatten(name="flatten")(x)
    logit = layers.Dense(
        1,
        use_bias=conditioning == "concat",
        kernel_initializer=initial_weights(),
        name="logit",
    )
    logits = spectral_norm(logit, spectral_normalization)(features)
    if conditioning == "projection":
        embedding = layers.Embedding(
            num_classes,
            features.shape[-1],
            embeddings_initializer=initial_weights(),
            name="label_projection",
        )
        embedded = spectral_norm(embedding, spectral_normalization)(label)
        projection = layers.Dot(axes=1, name="projection")([embedded, features])
        logits = layers.Add(name="logit_plus_projection")([logits, projection])
    logits = layers.Activation("linear", dtype="float32", name="output")(logits)
    return keras.Model([image, label], logits, name=name)


PAPER = "Mirza & Osindero, Conditional Generative Adversarial Nets, arXiv 2014"
# No "paper" preset: the paper's networks are MNIST MLPs; these are DCGAN-style.
PRESETS = {
    "conditional_generator": {
        "tiny": {
            "description": "8-d latent, 3 classes, 4 filters at 32x32 (tests)",
            "config": {
                "latent_dim": 8, "num_classes": 3, "image_shape": (32, 32, 3), "filters": 4,
            },
        },
    },
    "conditional_discriminator": {
        "tiny": {
            "description": "3 classes, 4 filters at 32x32 (tests)",
            "config": {"image_shape": (32, 32, 3), "num_classes": 3, "filters": 4},
        },
    },
}  # fmt: skip
