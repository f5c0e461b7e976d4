"""Unconditional GAN trainer: non-saturating BCE, hinge and WGAN-GP losses."""

import keras
from keras import ops

from keras_segen.trainers.backend import input_gradient, minimize, random_normal, random_uniform
from keras_segen.trainers.base import (
    AdversarialTrainer,
    batch_images,
    deserialize_submodels,
    track,
)

GAN_LOSSES = ("bce", "hinge", "wgan-gp")
REAL_BATCHES = ("split", "reuse")


def discriminator_loss(real_logits, fake_logits, loss="bce", label_smoothing=0.0):
    """Discriminator (critic) loss from the logits of real and generated images.

    ``"bce"``: binary cross-entropy with real targets ``1 - label_smoothing`` (one-sided
    smoothing, Salimans et al. 2016); ``"hinge"``: ``relu(1 - D(x)) + relu(1 + D(G(z)))``;
    ``"wgan-gp"``: ``D(G(z)) - D(x)`` (the gradient penalty is added by the trainer).

    Example:
        >>> real_logits, fake_logits = np.array([[2.0]]), np.array([[-0.5]])
        >>> float(keras_segen.trainers.discriminator_loss(real_logits, fake_logits, "hinge"))
        0.5
        >>> float(keras_segen.trainers.discriminator_loss(real_logits, fake_logits, "wgan-gp"))
        -2.5
        >>> round(float(keras_segen.trainers.discriminator_loss([[0.0]], [[0.0]])), 4)  # 2 ln 2
        1.3863
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
    """Generator loss: non-saturating ``-log D(G(z))`` for BCE, ``-D(G(z))`` otherwise.

    Example:
        >>> round(float(keras_segen.trainers.generator_loss(np.array([[0.0]]))), 4)  # ln 2
        0.6931
        >>> float(keras_segen.trainers.generator_loss(np.array([[1.5]]), "hinge"))
        -1.5
    """
    fake_logits = ops.cast(fake_logits, "float32")
    if loss == "bce":
        return ops.mean(ops.softplus(-fake_logits))
    return -ops.mean(fake_logits)


@keras.saving.register_keras_serializable(package="keras_segen")
class GAN(AdversarialTrainer):
    """Trains a generator against a discriminator with ``fit`` on a dataset of real images.

    Goodfellow et al. 2014 with the non-saturating generator loss, the hinge loss, or
    WGAN-GP (Gulrajani et al. 2017: interpolation weight drawn uniformly per example,
    gradient norm with a small epsilon inside the square root, ``d_steps`` critic updates
    per generator update). Every random draw comes from the trainer's ``SeedGenerator``
    (different on every replica under ``MirroredStrategy``).

    With ``d_steps`` > 1 each critic update sees its own real images, as in the paper's
    Algorithm 1: a ``fit`` batch of ``B`` images is cut into ``d_steps`` critic batches of
    ``ceil(B / d_steps)`` (the last one wrapping round to the first images when ``B`` does
    not divide), and the generator update uses that many latent vectors. So ``B`` is the
    real images one generator update consumes. ``real_batches="reuse"`` gives every critic
    update the whole batch instead (keras-io's WGAN-GP example, and this trainer before the
    option existed: a GAN saved without ``real_batches`` loads with it). On ``shapes``, for the
    same 1,880 generator steps of the wgan-gp recipe, a batch of 16 reused drew colour
    fields without shapes (FID 1.20); a batch of 32 split drew objects (0.26).

    Args:
        generator: model mapping ``(B, latent_dim)`` to images in [-1, 1].
        discriminator: model mapping images to logits ``(B, 1)``.
        latent_dim: latent size (default: the generator's input size).
        loss: ``"bce"``, ``"hinge"`` or ``"wgan-gp"``.
        d_steps: discriminator updates per generator update.
        real_batches: ``"split"`` (each critic update on its own part of the batch) or
            ``"reuse"`` (every critic update on the whole batch).
        gp_weight: gradient-penalty weight (WGAN-GP; 10 in the paper).
        label_smoothing: one-sided smoothing of the real targets (BCE only).
        ema: decay of an exponential moving average of the generator weights used for
            sampling (e.g. 0.999), or ``None``.
        seed: seed of the latent and interpolation draws.

    Example:
        >>> images = keras_segen.data.load_images("shapes", image_size=32, num_examples=16)
        >>> gan = keras_segen.GAN(
        ...     keras_segen.dcgan_generator(64, (32, 32, 3), filters=32),
        ...     keras_segen.dcgan_discriminator((32, 32, 3), filters=32))
        >>> gan.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5))
        >>> history = gan.fit(images, epochs=2, verbose=0)
        >>> sorted(history.history), gan(gan.sample_latent(4)).shape
        (['d_loss', 'g_loss'], TensorShape([4, 32, 32, 3]))
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="bce",
        d_steps=1,
        real_batches="split",
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
        if real_batches not in REAL_BATCHES:
            raise ValueError(f"real_batches must be one of {REAL_BATCHES}; got {real_batches!r}.")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        if ema is not None and not 0.0 <= ema <= 1.0:
            raise ValueError(f"ema must be None or a decay in [0, 1]; got {ema!r}.")
        generator_latent = generator.inputs[0].shape[-1]
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
        self.real_batches = real_batches
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

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        return trackers + ([self.gp_tracker] if self.loss_name == "wgan-gp" else [])

    def call(self, latent, training=False):
        """Generates images, with the EMA weights when there are any."""
        return (self.ema_generator or self.generator)(latent, training=training)

    def sample_latent(self, batch_size):
        """A batch of standard-normal latent vectors from the trainer's seed generator."""
        return random_normal((batch_size, self.latent_dim), self.seed_generator)

    # The three hooks a conditional trainer overrides.
    def _split(self, data):
        """``(real images, condition)`` of a ``fit`` batch."""
        return batch_images(data), None

    def _generate(self, latent, condition, training):
        return self.generator(latent, training=training)

    def _discriminate(self, images, condition, training):
        return self.discriminator(images, training=training)

    def gradient_penalty(self, real, fake, condition=None):
        """``mean((||grad D(x_hat)|| - 1)^2)`` at ``x_hat = real + alpha (fake - real)``."""
        real = ops.cast(real, "float32")
        fake = ops.cast(fake, "float32")
        alpha = random_uniform((ops.shape(real)[0], 1, 1, 1), self.seed_generator)
        mixed = real + alpha * (fake - real)
        gradients = input_gradient(
            self, lambda images: self._discriminate(images, condition, training=True), mixed
        )
        norms = ops.sqrt(ops.sum(ops.square(gradients), axis=(1, 2, 3)) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))

    def _discriminator_losses(self, real, condition):
        fake = self._generate(self.sample_latent(ops.shape(real)[0]), condition, training=True)
        fake = ops.stop_gradient(fake)
        real_logits = self._discriminate(real, condition, training=True)
        fake_logits = self._discriminate(fake, condition, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, self.loss_name, self.label_smoothing)
        if self.loss_name != "wgan-gp":
            return d_loss, None
        penalty = self.gradient_penalty(real, fake, condition)
        return d_loss + self.gp_weight * penalty, penalty

    def _generator_losses(self, batch_size, condition):
        fake = self._generate(self.sample_latent(batch_size), condition, training=True)
        return (generator_loss(self._discriminate(fake, condition, training=True), self.loss_name),)

    def critic_batches(self, real, condition):
        """``d_steps`` pairs ``(real images, condition)``, one per critic update."""
        if self.real_batches == "reuse" or self.d_steps == 1:
            return [(real, condition)] * self.d_steps
        count = ops.shape(real)[0]
        size = (count + self.d_steps - 1) // self.d_steps
        batches = []
        for index in range(self.d_steps):
            rows = (ops.arange(size) + index * size) % count
            part = None if condition is None else ops.take(condition, rows, axis=0)
            batches.append((ops.take(real, rows, axis=0), part))
        return batches

    def stateful_train_step(self, data):
        batches = self.critic_batches(*self._split(data))
        for real, condition in batches:
            d_loss, penalty = minimize(
                self,
                lambda r=real, c=condition: self._discriminator_losses(r, c),
                [(self.d_optimizer, self.discriminator.trainable_weights)],
            )
        last_real, last_condition = batches[-1]  # the generator's batch size and condition
        (g_loss,) = minimize(
            self,
            lambda: self._generator_losses(ops.shape(last_real)[0], last_condition),
            [(self.g_optimizer, self.generator.trainable_weights)],
        )
        if self.ema_generator is not None:
            for average, weight in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(
                    self.ema * average + (1.0 - self.ema) * ops.cast(weight, average.dtype)
                )
        values = [d_loss, g_loss] + ([penalty] if self.loss_name == "wgan-gp" else [])
        return track(self.metrics, values)

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "loss": self.loss_name,
            "d_steps": self.d_steps,
            "real_batches": self.real_batches,
            "gp_weight": self.gp_weight,
            "label_smoothing": self.label_smoothing,
            "ema": self.ema,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = {"real_batches": "reuse", **config}  # saved before critic batches were cut
        return cls(**deserialize_submodels(config, ("generator", "discriminator"), custom_objects))


@keras.saving.register_keras_serializable(package="keras_segen")
class ConditionalGAN(GAN):
    """A class-conditional GAN trained with ``fit`` on ``(images, labels)`` batches.

    Mirza & Osindero 2014: both networks see the class label; generated images take the
    labels of the last critic batch. Losses, ``d_steps``, WGAN-GP, label smoothing and EMA work as
    in ``GAN``.

    Args:
        generator: ``[latent (B, latent_dim), labels (B,)] -> images``
            (e.g. ``keras_segen.conditional_generator``).
        discriminator: ``[images, labels (B,)] -> logits (B, 1)``
            (e.g. ``keras_segen.conditional_discriminator``).
        num_classes: number of classes; labels are ints in ``[0, num_classes)``.
        **kwargs: the ``GAN`` arguments (``loss``, ``d_steps``, ``ema``, ``seed``, ...).

    Example:
        >>> cgan = keras_segen.ConditionalGAN(
        ...     keras_segen.conditional_generator(64, 3, (32, 32, 3)),
        ...     keras_segen.conditional_discriminator((32, 32, 3), 3), num_classes=3)
        >>> images_and_labels = keras_segen.data.load_images(
        ...     "shapes", image_size=32, labels=True, num_examples=16)  # 3 classes of shape
        >>> cgan.compile()
        >>> history = cgan.fit(images_and_labels, epochs=2, verbose=0)
        >>> cgan.generate([0, 1, 2]).shape  # one image of each class
        TensorShape([3, 32, 32, 3])
    """

    def __init__(self, generator, discriminator, num_classes, **kwargs):
        for role, model in (("generator", generator), ("discriminator", discriminator)):
            if len(model.inputs) != 2:
                raise ValueError(
                    f"ConditionalGAN: the {role} must take two inputs [.., labels]; it takes "
                    f"{len(model.inputs)}."
                )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}.")
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = num_classes

    def _split(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("ConditionalGAN trains on (images, labels) batches.")
        return data[0], ops.reshape(ops.cast(data[1], "int32"), (-1,))

    def _generate(self, latent, labels, training):
        return self.generator([latent, labels], training=training)

    def _discriminate(self, images, labels, training):
        return self.discriminator([images, labels], training=training)

    def call(self, inputs, training=False):
        """``[latent, labels]`` -> images, with the EMA weights when there are any."""
        return (self.ema_generator or self.generator)(inputs, training=training)

    def check_labels(self, labels, count=None):
        """``labels`` as a flat int32 array; ValueError unless they are (``count``) classes."""
        labels = ops.convert_to_numpy(labels).astype("int32").reshape(-1)
        wrong_count = count is not None and len(labels) != count
        if wrong_count or (labels.size and (labels.min() < 0 or labels.max() >= self.num_classes)):
            expected = f"{count} ints" if count is not None else "ints"
            raise ValueError(
                f"labels must be {expected} in [0, {self.num_classes}); got {labels.tolist()}."
            )
        return labels

    def generate(self, labels):
        """Images of the given classes from fresh latent vectors."""
        labels = self.check_labels(labels)
        return self([self.sample_latent(len(labels)), ops.convert_to_tensor(labels)])

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
