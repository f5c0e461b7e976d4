"""Generation builders, registered by name (task ``"generation"``)."""

from keras_segen.models.generation.cgan import conditional_discriminator, conditional_generator
from keras_segen.models.generation.dcgan import dcgan_discriminator, dcgan_generator
from keras_segen.models.generation.label_map_discriminator import label_map_discriminator
from keras_segen.models.generation.pix2pix import patchgan_discriminator, pix2pix_generator
from keras_segen.models.generation.vae import vae_decoder, vae_encoder
from keras_segen.registry import register_model

DCGAN_PAPER = (
    "Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
    "Convolutional Generative Adversarial Networks, ICLR 2016"
)
VAE_PAPER = "Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014"
CGAN_PAPER = "Mirza & Osindero, Conditional Generative Adversarial Nets, arXiv 2014"
PIX2PIX_PAPER = (
    "Isola, Zhu, Zhou & Efros, Image-to-Image Translation with Conditional Adversarial "
    "Networks, CVPR 2017"
)
for _builder in (dcgan_generator, dcgan_discriminator):
    register_model("generation", paper=DCGAN_PAPER)(_builder)
for _builder in (vae_encoder, vae_decoder):
    register_model("generation", paper=VAE_PAPER)(_builder)
for _builder in (conditional_generator, conditional_discriminator):
    register_model("generation", paper=CGAN_PAPER)(_builder)
for _builder in (pix2pix_generator, patchgan_discriminator):
    register_model("generation", paper=PIX2PIX_PAPER)(_builder)
register_model(
    "generation",
    paper="Luc, Couprie, Chintala & Verbeek, Semantic Segmentation using Adversarial "
    "Networks, NIPS Workshop on Adversarial Training 2016",
)(label_map_discriminator)

__all__ = [
    "conditional_discriminator",
    "conditional_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "label_map_discriminator",
    "patchgan_discriminator",
    "pix2pix_generator",
    "vae_decoder",
    "vae_encoder",
]
