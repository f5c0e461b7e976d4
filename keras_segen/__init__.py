"""keras_segen: Keras 3 models for image segmentation and generation, ready to train and export.

Example:
    >>> import keras_segen
    >>> model = keras_segen.unet(input_shape=(256, 256, 3), num_classes=3)
    >>> keras_segen.list_models("segmentation")
    ['deeplabv3_plus', 'fcn', 'reseg', 'segnet', 'unet']
"""

from keras_segen import (
    classical,
    data,
    export,
    inference,
    layers,
    losses,
    metrics,
    pipelines,
    viz,
)
from keras_segen.models.generation import (
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    label_map_discriminator,
    patchgan_discriminator,
    pix2pix_generator,
    vae_decoder,
    vae_encoder,
)
from keras_segen.models.segmentation import (
    deeplabv3_plus,
    fcn,
    reseg,
    segnet,
    unet,
)
from keras_segen.registry import get_model, list_models, model_entry, register_model
from keras_segen.training import (
    GAN,
    VAE,
    AdversarialSegmenter,
    ConditionalGAN,
    Pix2Pix,
    evaluate,
    evaluate_model,
    export_model,
    generate,
    predict,
    quickstart,
    resume,
    resume_generation,
    train,
    train_generation,
)
from keras_segen.version import __version__

__all__ = [
    "AdversarialSegmenter",
    "label_map_discriminator",
    "ConditionalGAN",
    "classical",
    "GAN",
    "Pix2Pix",
    "VAE",
    "__version__",
    "conditional_discriminator",
    "conditional_generator",
    "data",
    "dcgan_discriminator",
    "dcgan_generator",
    "evaluate",
    "evaluate_model",
    "export",
    "inference",
    "export_model",
    "generate",
    "resume_generation",
    "train_generation",
    "predict",
    "quickstart",
    "resume",
    "train",
    "viz",
    "deeplabv3_plus",
    "fcn",
    "get_model",
    "layers",
    "list_models",
    "losses",
    "metrics",
    "model_entry",
    "patchgan_discriminator",
    "pipelines",
    "pix2pix_generator",
    "register_model",
    "reseg",
    "segnet",
    "unet",
    "vae_decoder",
    "vae_encoder",
]
