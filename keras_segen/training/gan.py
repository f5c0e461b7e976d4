"""Unconditional GAN trainer: non-saturating BCE, hinge and WGAN-GP losses."""

import keras
import tensorflow as tf
from keras import ops

from keras_segen.training.trainer_utils import batch_images, deserialize_submodels

GAN_LOSSES = ("bce", "hinge", "wgan-gp")


def discriminator_loss(real_logits, fake_logits, loss="bce", label_smoothing=0.0):
    """Discriminator (critic) loss from the logits of real and generated images.

    ``"bce"``: binary cross-entropy with real targets ``1 - label_smoothing`` (one-sided
    smoothing, Salimans et al. 2016); ``"hinge"``: ``relu(1 - D(x)) + relu(1 + D(G(z)))``;
    ``"wgan-gp"``: ``D(G(z)) - D(x)`` (the gradient penalty is added by the trainer).

    Example:
        >>> d_loss = keras_segen.training.gan.discriminator_loss(real, fake, "hinge")
    """
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    if loss == "bce":
        target = 1.0 - label_smoothing
        real_term = target * ops.softplus(-real_logits) + (1.0 - target) * ops.softplus(real_logits)
        return ops.mean(real_term) + ops.mean(ops.softplus(fake_logits))
    if loss == "hinge":
        return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))
    return ops.mean(fake_logits) - ops.mean(real_logits)


def generator_loss(fake_logits, loss="bce"):
    """Generator loss: non-saturating ``-log D(G(z))`` for BCE, ``-D(G(z))`` otherwise."""
    fake_logits = ops.cast(fake_logits, "float32")
    if loss == "bce":
        return ops.mean(ops.softplus(-fake_logits))
    return -ops.mean(fake_logits)


@keras.saving.register_keras_serializable(package="keras_segen")
class GAN(keras.Model):
    """Trains a generator against a discriminator with ``fit`` on a dataset of real images.

    Goodfellow et al. 2014 with the non-saturating generator loss, the hinge loss, or
    WGAN-GP (Gulrajani et al. 2017: interpolation weight drawn uniformly per example,
    gradient norm with a small epsilon inside the square root, ``d_steps`` critic updates
    per generator update). Every random draw uses the trainer's ``SeedGenerator``.

    Args:
        generator: model mapping ``(B, latent_dim)`` to images in [-1, 1].
        discriminator: model mapping images to logits ``(B, 1)``.
        latent_dim: latent size (default: the generator's input size).
        loss: ``"bce"``, ``"hinge"`` or ``"wgan-gp"``.
        d_steps: discriminator updates per generator update.
        gp_weight: gradient-penalty weight (WGAN-GP; 10 in the paper).
        label_smoothing: one-sided smoothing of the real targets (BCE only).
        ema: decay of an exponential moving average of the generator weights used for
            sampling (e.g. 0.999), or ``None``.
        seed: seed of the latent and interpolation draws.

    Example:
        >>> gan = keras_segen.GAN(keras_segen.dcgan_generator(), keras_segen.dcgan_discriminator())
        >>> gan.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5))
        >>> gan.fit(images, epochs=5)
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="bce",
        d_steps=1,
        gp_weight=10.0,
        label_smoothing=0.0,
        ema=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if loss not in GAN_LOSSES:
            raise ValueError(f"loss must be one of {GAN_LOSSES}; got {loss!r}.")
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer; got {d_steps!r}.")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        if ema is not None and not 0.0 <= ema <= 1.0:
            raise ValueError(f"ema must be None or a decay in [0, 1]; got {ema!r}.")
        generator_latent = generator.input.shape[-1]
        if latent_dim is not None and latent_dim != generator_latent:
            raise ValueError(
                f"latent_dim={latent_dim} does not match the generator's input size "
                f"{generator_latent}."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator_latent
        self.loss_name = loss
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.label_smoothing = label_smoothing
        self.ema = ema
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.ema_generator = None
        if ema is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.built = True  # both networks are built models; nothing is created lazily
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.gp_tracker = keras.metrics.Mean(name="gradient_penalty")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Sets one optimizer per network (built at once); ``mixed_float16`` adds loss scaling."""
        super().compile(**kwargs)
        if self.dtype_policy.name == "mixed_float16":
            wrap = keras.optimizers.LossScaleOptimizer
            d_optimizer = d_optimizer if isinstance(d_optimizer, wrap) else wrap(d_optimizer)
            g_optimizer = g_optimizer if isinstance(g_optimizer, wrap) else wrap(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Optimizer variables are created here, in the caller's distribution scope, rather
        # than lazily inside the first (replicated) train step, which MirroredStrategy rejects;
        # it also lets a loaded model restore them.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
        }

    def compile_from_config(self, config):
        self.compile(
            keras.saving.deserialize_keras_object(config["d_optimizer"]),
            keras.saving.deserialize_keras_object(config["g_optimizer"]),
        )

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        return trackers + ([self.gp_tracker] if self.loss_name == "wgan-gp" else [])

    def call(self, latent, training=False):
        """Generates images, with the EMA weights when there are any."""
        return (self.ema_generator or self.generator)(latent, training=training)

    def sample_latent(self, batch_size):
        """A batch of standard-normal latent vectors from the trainer's seed generator."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def gradient_penalty(self, real, fake):
        """``mean((||grad D(x_hat)|| - 1)^2)`` at ``x_hat = real + alpha (fake - real)``."""
        real = ops.cast(real, "float32")
        fake = ops.cast(fake, "float32")
        alpha = keras.random.uniform((ops.shape(real)[0], 1, 1, 1), seed=self.seed_generator)
        mixed = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            logits = ops.cast(self.discriminator(mixed, training=True), "float32")
        gradients = tape.gradient(logits, mixed)
        norms = ops.sqrt(ops.sum(ops.square(gradients), axis=(1, 2, 3)) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))

    @staticmethod
    def _apply(optimizer, scaled_loss, tape, variables):
        optimizer.apply(tape.gradient(scaled_loss, variables), variables)

    def train_step(self, data):
        real = batch_images(data)
        batch_size = ops.shape(real)[0]
        for _ in range(self.d_steps):
            with tf.GradientTape() as tape:
                fake = self.generator(self.sample_latent(batch_size), training=True)
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss = discriminator_loss(
                    real_logits, fake_logits, self.loss_name, self.label_smoothing
                )
                if self.loss_name == "wgan-gp":
                    penalty = self.gradient_penalty(real, fake)
                    d_loss = d_loss + self.gp_weight * penalty
                # Loss scaling (mixed precision) must happen on the tape.
                scaled = self.d_optimizer.scale_loss(d_loss)
            self._apply(self.d_optimizer, scaled, tape, self.discriminator.trainable_weights)
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch_size), training=True)
            g_loss = generator_loss(self.discriminator(fake, training=True), self.loss_name)
            scaled = self.g_optimizer.scale_loss(g_loss)
        self._apply(self.g_optimizer, scaled, tape, self.generator.trainable_weights)
        if self.ema_generator is not None:
            for average, weight in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(
                    self.ema * average + (1.0 - self.ema) * ops.cast(weight, average.dtype)
                )
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        if self.loss_name == "wgan-gp":
            self.gp_tracker.update_state(penalty)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "loss": self.loss_name,
            "d_steps": self.d_steps,
            "gp_weight": self.gp_weight,
            "label_smoothing": self.label_smoothing,
            "ema": self.ema,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("generator", "discriminator"), custom_objects))
