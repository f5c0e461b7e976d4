"""Generation builders, registered by name (task ``"generation"``)."""

from keras_segen.models.generation.dcgan import dcgan_discriminator, dcgan_generator
from keras_segen.models.generation.vae import vae_decoder, vae_encoder
from keras_segen.registry import register_model

DCGAN_PAPER = (
    "Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
    "Convolutional Generative Adversarial Networks, ICLR 2016"
)
VAE_PAPER = "Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014"
for _builder in (dcgan_generator, dcgan_discriminator):
    register_model("generation", paper=DCGAN_PAPER)(_builder)
for _builder in (vae_encoder, vae_decoder):
    register_model("generation", paper=VAE_PAPER)(_builder)

__all__ = ["dcgan_discriminator", "dcgan_generator", "vae_decoder", "vae_encoder"]
