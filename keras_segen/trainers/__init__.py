"""Trainers: ``keras.Model`` subclasses with custom train steps, their callbacks, recipes.

``GAN`` (DCGAN / WGAN-GP), ``ConditionalGAN``, ``VAE``, ``Pix2Pix``, ``GauGAN`` (SPADE) and
``AdversarialSegmenter``, ``SemiSupervisedSegmenter`` (Hung et al.) and its ablation
``SelfTrainingSegmenter`` (the adversarial ones share ``AdversarialTrainer``: one optimizer
per network); ``SampleGrid`` draws samples after every epoch; the generation recipes
(``list_recipes``) say which builders, trainer and optimizers a run uses. Names are
imported on first use.
"""

from keras_segen.lazy import lazy_attributes

_EXPORTS = {
    "AdversarialSegmenter": "keras_segen.trainers.adversarial_segmentation",
    "AdversarialTrainer": "keras_segen.trainers.base",
    "ConditionalGAN": "keras_segen.trainers.gan",
    "CosineCycles": "keras_segen.trainers.schedules",
    "GAN": "keras_segen.trainers.gan",
    "GauGAN": "keras_segen.trainers.spade",
    "GenerationRecipe": "keras_segen.trainers.recipes",
    "Pix2Pix": "keras_segen.trainers.pix2pix",
    "OptimizerGroup": "keras_segen.trainers.backend",
    "SampleGrid": "keras_segen.trainers.callbacks",
    "SegmenterAdversarialTrainer": "keras_segen.trainers.adversarial_segmentation",
    "SelfTrainingSegmenter": "keras_segen.trainers.semi_supervised",
    "SemiSupervisedSegmenter": "keras_segen.trainers.semi_supervised",
    "Trainer": "keras_segen.trainers.base",
    "VAE": "keras_segen.trainers.vae",
    "discriminator_loss": "keras_segen.trainers.gan",
    "discriminator_scales": "keras_segen.trainers.spade",
    "feature_matching_loss": "keras_segen.trainers.spade",
    "generator_loss": "keras_segen.trainers.gan",
    "get_recipe": "keras_segen.trainers.recipes",
    "kl_divergence": "keras_segen.trainers.vae",
    "list_recipes": "keras_segen.trainers.recipes",
    "masked_binary_crossentropy": "keras_segen.trainers.semi_supervised_steps",
    "perturb_colours": "keras_segen.trainers.semi_supervised_steps",
    "pseudo_labels": "keras_segen.trainers.semi_supervised_steps",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
