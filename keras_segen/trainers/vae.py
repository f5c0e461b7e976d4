"""VAE trainer: reparameterisation, reconstruction + beta * KL (Kingma & Welling 2014)."""

import keras
from keras import ops

from keras_segen.trainers.backend import minimize, random_normal
from keras_segen.trainers.base import Trainer, batch_images, deserialize_submodels, track


def kl_divergence(z_mean, z_log_var):
    """``KL(N(mean, exp(log_var)) || N(0, I))`` per example, summed over latent dimensions.

    Example:
        >>> z_mean, z_log_var = [[1.0, 0.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]
        >>> keras.ops.convert_to_numpy(keras_segen.trainers.kl_divergence(z_mean, z_log_var))
        array([0.5, 2. ], dtype=float32)
    """
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="keras_segen")
class VAE(Trainer):
    """Trains an encoder and a decoder as a VAE with ``fit`` on images in [-1, 1].

    The loss per example is the squared reconstruction error summed over pixels (a
    Gaussian likelihood with fixed variance) plus ``beta`` times the KL divergence of the
    approximate posterior from N(0, I) (beta-VAE, Higgins et al. 2017, for ``beta != 1``).
    ``z = mean + exp(log_var / 2) * eps`` with ``eps`` from the trainer's ``SeedGenerator``.

    Args:
        encoder: images -> ``[z_mean, z_log_var]`` (e.g. ``keras_segen.vae_encoder``).
        decoder: latent -> images (e.g. ``keras_segen.vae_decoder``).
        beta: weight of the KL term.
        seed: seed of the reparameterisation noise.

    Example:
        >>> images = keras_segen.data.load_images(
        ...     "shapes", image_size=32, channels=1, num_examples=16)
        >>> vae = keras_segen.VAE(keras_segen.vae_encoder((32, 32, 1), 16),
        ...                       keras_segen.vae_decoder(16, (32, 32, 1)))
        >>> vae.compile(keras.optimizers.Adam(1e-3))
        >>> history = vae.fit(images, epochs=2, verbose=0)
        >>> sorted(history.history), vae(vae.sample_latent(4)).shape
        (['kl_loss', 'loss', 'reconstruction_loss'], TensorShape([4, 32, 32, 1]))
    """

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if beta < 0:
            raise ValueError(f"beta must be >= 0; got {beta!r}.")
        latent_dim = decoder.input.shape[-1]
        encoded = encoder.output[0].shape[-1] if isinstance(encoder.output, list) else None
        if encoded != latent_dim:
            raise ValueError(
                f"The encoder must output [z_mean, z_log_var] of the decoder's latent size "
                f"{latent_dim}; got {encoder.output}."
            )
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.beta = beta
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, latent, training=False):
        """Decodes latent vectors into images."""
        return self.decoder(latent, training=training)

    def sample_latent(self, batch_size):
        """Latent vectors from the prior N(0, I)."""
        return random_normal((batch_size, self.latent_dim), self.seed_generator)

    def encode(self, images, training=False):
        """``(z_mean, z_log_var, z)`` with ``z`` drawn by reparameterisation."""
        z_mean, z_log_var = self.encoder(images, training=training)
        noise = random_normal(ops.shape(z_mean), self.seed_generator)
        return z_mean, z_log_var, z_mean + ops.exp(0.5 * z_log_var) * noise

    def _vae_losses(self, images, training):
        images = ops.cast(images, "float32")
        z_mean, z_log_var, z = self.encode(images, training=training)
        reconstruction = ops.cast(self.decoder(z, training=training), "float32")
        reconstruction_loss = ops.mean(ops.sum(ops.square(images - reconstruction), axis=(1, 2, 3)))
        kl_loss = ops.mean(kl_divergence(z_mean, z_log_var))
        return reconstruction_loss + self.beta * kl_loss, reconstruction_loss, kl_loss

    def stateful_train_step(self, data):
        images = batch_images(data)
        losses = minimize(  # the list compile() built the optimizer for
            self,
            lambda: self._vae_losses(images, training=True),
            [(self.optimizer, self.trainable_variables)],
        )
        return track(self.metrics, losses)

    def stateful_test_step(self, data):
        images = batch_images(data)
        return track(self.metrics, self._vae_losses(images, training=False))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("encoder", "decoder"), custom_objects))
