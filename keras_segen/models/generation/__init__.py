"""Generation builders: DCGAN, VAE, cGAN, pix2pix, SPADE, the segmentation discriminators."""

from keras_segen.models.generation.cgan import conditional_discriminator, conditional_generator
from keras_segen.models.generation.confidence_discriminator import confidence_discriminator
from keras_segen.models.generation.dcgan import dcgan_discriminator, dcgan_generator
from keras_segen.models.generation.label_map_discriminator import label_map_discriminator
from keras_segen.models.generation.pix2pix import patchgan_discriminator, pix2pix_generator
from keras_segen.models.generation.spade import spade_discriminator, spade_generator
from keras_segen.models.generation.vae import vae_decoder, vae_encoder

__all__ = [
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
]
