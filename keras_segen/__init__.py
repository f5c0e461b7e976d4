"""keras_segen: Keras 3 models for image segmentation and generation, ready to train and export.

Names are imported on first use, so ``import keras_segen`` (and ``keras-segen --version``)
imports neither Keras nor TensorFlow.

Example:
    >>> import keras_segen
    >>> model = keras_segen.unet(input_shape=(256, 256, 3), num_classes=3)
    >>> keras_segen.list_models("segmentation")
    ['deeplabv3_plus', 'fcn', 'fpn', 'linknet', 'pspnet', 'reseg', 'segnet', 'unet',
     'unet_plus_plus']
"""

import importlib

from keras_segen import verbosity
from keras_segen.lazy import lazy_attributes, when_keras_is_imported
from keras_segen.verbosity import get_verbosity, set_verbosity
from keras_segen.version import __version__

_SEGMENTATION = "keras_segen.models.segmentation"
_GENERATION = "keras_segen.models.generation"
_EXPORTS = {
    # subpackages and modules
    **dict.fromkeys(
        (
            "classical",
            "data",
            "export",
            "inference",
            "layers",
            "losses",
            "metrics",
            "models",
            "pipelines",
            "quantization",
            "registry",
            "runs",
            "trainers",
            "viz",
        ),
        "",
    ),  # fmt: skip
    # builders
    **dict.fromkeys(
        (
            "deeplabv3_plus",
            "fcn",
            "fpn",
            "linknet",
            "pspnet",
            "reseg",
            "segnet",
            "unet",
            "unet_plus_plus",
        ),
        _SEGMENTATION,
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "conditional_discriminator",
            "conditional_generator",
            "confidence_discriminator",
            "dcgan_discriminator",
            "dcgan_generator",
            "label_map_discriminator",
            "patchgan_discriminator",
            "pix2pix_generator",
            "spade_discriminator",
            "spade_generator",
            "vae_decoder",
            "vae_encoder",
        ),
        _GENERATION,
    ),  # fmt: skip
    # the encoder seam
    **dict.fromkeys(("encoder", "freeze_encoder", "list_backbones"), "keras_segen.models.encoders"),
    # the registry
    **dict.fromkeys(
        ("get_model", "list_models", "list_presets", "model_entry", "register_model"),
        "keras_segen.registry",
    ),
    # quantization-aware fine-tuning
    **dict.fromkeys(
        ("quantization_aware", "without_fake_quantization"), "keras_segen.quantization"
    ),
    # trainers
    **dict.fromkeys(
        (
            "AdversarialSegmenter",
            "ConditionalGAN",
            "GAN",
            "GauGAN",
            "Pix2Pix",
            "SelfTrainingSegmenter",
            "SemiSupervisedSegmenter",
            "VAE",
        ),
        "keras_segen.trainers",
    ),
    # runs
    **dict.fromkeys(
        (
            "evaluate",
            "evaluate_model",
            "export_run",
            "generate",
            "predict",
            "quickstart",
            "resume",
            "resume_generation",
            "train",
            "train_generation",
        ),
        "keras_segen.runs",
    ),  # fmt: skip
}
__all__ = ["__version__", "get_verbosity", "set_verbosity", *sorted(_EXPORTS)]
verbosity.install()
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)

# Modules that register Keras-serialisable classes (layers, losses, metrics, trainers).
SERIALIZABLE_MODULES = (
    "keras_segen.layers",
    "keras_segen.losses",
    "keras_segen.metrics",
    "keras_segen.trainers.adversarial_segmentation",
    "keras_segen.trainers.gan",
    "keras_segen.trainers.pix2pix",
    "keras_segen.trainers.spade",
    "keras_segen.trainers.vae",
    "keras_segen.trainers.schedules",
)
# ClassicalBaseline runs TensorFlow ops: it is registered on the TensorFlow backend only.
TENSORFLOW_SERIALIZABLE_MODULES = ("keras_segen.classical",)


def _register_serializables():
    import keras

    modules = SERIALIZABLE_MODULES
    if keras.backend.backend() == "tensorflow":
        modules += TENSORFLOW_SERIALIZABLE_MODULES
    for module in modules:
        importlib.import_module(module)


when_keras_is_imported(_register_serializables)
