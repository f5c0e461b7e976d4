"""Training: segmentation run directories and the generation trainers (GAN, VAE, pix2pix)."""

from keras_segen.training.adversarial_segmentation import AdversarialSegmenter
from keras_segen.training.callbacks import RunCheckpoint, read_history
from keras_segen.training.evaluation import evaluate, evaluate_model, format_report, predict
from keras_segen.training.export_runs import export_model
from keras_segen.training.gan import GAN, ConditionalGAN, discriminator_loss, generator_loss
from keras_segen.training.generation_runs import (
    generate,
    paired_report,
    resume_generation,
    train_generation,
)
from keras_segen.training.pix2pix import Pix2Pix
from keras_segen.training.quickstart import quickstart
from keras_segen.training.run_data import split_plan
from keras_segen.training.run_files import load_run_or_model
from keras_segen.training.runs import resume, train
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
    "split_plan",
    "resume",
    "train",
]
