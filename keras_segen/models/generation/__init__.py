"""Generation builders, registered by name (task ``"generation"``)."""

from keras_segen.models.generation.dcgan import dcgan_discriminator, dcgan_generator
from keras_segen.registry import register_model

DCGAN_PAPER = (
    "Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
    "Convolutional Generative Adversarial Networks, ICLR 2016"
)
for _builder in (dcgan_generator, dcgan_discriminator):
    register_model("generation", paper=DCGAN_PAPER)(_builder)

__all__ = ["dcgan_discriminator", "dcgan_generator"]
