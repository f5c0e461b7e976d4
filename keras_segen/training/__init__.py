"""Training: segmentation run directories and the generation trainers (GAN, VAE, pix2pix)."""

from keras_segen.training.adversarial_segmentation import AdversarialSegmenter
from keras_segen.training.callbacks import RunCheckpoint, read_history
from keras_segen.training.export_runs import export_model
from keras_segen.training.gan import GAN, ConditionalGAN, discriminator_loss, generator_loss
from keras_segen.training.generation_runs import (
    generate,
    paired_report,
    resume_generation,
    train_generation,
)
from keras_segen.training.pix2pix import Pix2Pix
from keras_segen.training.runs import (
    evaluate,
    evaluate_model,
    format_report,
    load_run_or_model,
    predict,
    quickstart,
    resume,
    train,
)
from keras_segen.training.sample_grid import SampleGrid
from keras_segen.training.vae import VAE, kl_divergence

__all__ = [
    "AdversarialSegmenter",
    "ConditionalGAN",
    "GAN",
    "Pix2Pix",
    "discriminator_loss",
    "generator_loss",
    "kl_divergence",
    "RunCheckpoint",
    "SampleGrid",
    "VAE",
    "evaluate",
    "export_model",
    "generate",
    "paired_report",
    "resume_generation",
    "train_generation",
    "evaluate_model",
    "format_report",
    "load_run_or_model",
    "predict",
    "quickstart",
    "read_history",
    "resume",
    "train",
]
