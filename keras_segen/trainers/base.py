"""Pieces shared by the custom-train-step trainers (GAN, VAE, Pix2Pix, ...).

Every trainer writes one stateful step (``stateful_train_step``, ``stateful_test_step``)
with losses from ``keras.ops`` and updates through ``trainers.backend.minimize``;
``Trainer`` runs it on TensorFlow, PyTorch and JAX. Under ``tf.distribute`` the losses
are divided by the replica count (the optimizer sums the replicas' gradients) and random
draws differ per replica (``trainers.backend``).
"""

import keras

from keras_segen.trainers.backend import OptimizerGroup, backend, stateless_step


def batch_images(data):
    """The images of a ``fit`` batch: ``data`` itself, or its first element for tuples."""
    return data[0] if isinstance(data, (tuple, list)) else data


def deserialize_submodels(config, keys, custom_objects=None):
    """A copy of ``config`` with the serialised sub-models under ``keys`` rebuilt."""
    config = dict(config)
    for key in keys:
        config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
    return config


def track(trackers, values):
    """Updates each ``Mean`` tracker with its value; returns ``{name: result}`` for all."""
    for tracker, value in zip(trackers, values):
        tracker.update_state(value)
    return {tracker.name: tracker.result() for tracker in trackers}


def optimizers_in_use(model):
    """``{prefix: optimizer}`` of the optimizers ``fit`` updates.

    Adversarial trainers give ``{"g": ..., "d": ...}`` (their ``optimizer`` is the
    ``OptimizerGroup`` of both); a compiled model ``{"": model.optimizer}``; else ``{}``.
    """
    if isinstance(getattr(model, "g_optimizer", None), keras.optimizers.Optimizer):
        return {"g": model.g_optimizer, "d": model.d_optimizer}
    optimizer = getattr(model, "optimizer", None)
    return {"": optimizer} if isinstance(optimizer, keras.optimizers.Optimizer) else {}


class Trainer(keras.Model):
    """A ``keras.Model`` whose ``fit``/``evaluate`` steps are written once for every backend.

    Subclasses define ``stateful_train_step(data)`` (and ``stateful_test_step(data)`` to
    support ``evaluate``/validation), returning ``{name: value}``, and update through
    ``keras_segen.trainers.backend.minimize``.

    Example:
        >>> from keras_segen.trainers.backend import minimize
        >>> class Denoiser(keras_segen.trainers.Trainer):
        ...     def __init__(self, network):
        ...         super().__init__()
        ...         self.network, self.built = network, True
        ...         self.tracker = keras.metrics.Mean(name="loss")
        ...         self.noise = keras.random.SeedGenerator(0)  # draws on every backend
        ...     def call(self, images):
        ...         return self.network(images)
        ...     def denoising_loss(self, images):
        ...         noise = keras.random.normal(keras.ops.shape(images), seed=self.noise)
        ...         noisy = images + 0.1 * noise
        ...         return (keras.ops.mean(keras.ops.square(self.network(noisy) - images)),)
        ...     def stateful_train_step(self, images):
        ...         target = (self.optimizer, self.trainable_variables)
        ...         (loss,) = minimize(self, lambda: self.denoising_loss(images), [target])
        ...         self.tracker.update_state(loss)
        ...         return {"loss": self.tracker.result()}
        >>> network = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 1)])
        >>> denoiser = Denoiser(network)
        >>> denoiser.compile(keras.optimizers.Adam(1e-2))
        >>> images = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
        >>> losses = denoiser.fit(images, batch_size=4, epochs=5, verbose=0).history["loss"]
        >>> losses[-1] < losses[0]
        True
    """

    def state_variables(self):
        """Every variable a step may read or write: the JAX state of ``fit``."""
        optimizer = getattr(self, "optimizer", None)
        optimizer_variables = list(optimizer.variables) if optimizer is not None else []
        return (
            self.trainable_variables
            + self.non_trainable_variables
            + optimizer_variables
            + self.metrics_variables
        )

    def train_step(self, *args):
        if backend() != "jax":
            return self.stateful_train_step(*args)
        state, data = args
        groups = [
            self.trainable_variables,
            self.non_trainable_variables,
            list(self.optimizer.variables),
            self.metrics_variables,
        ]
        return stateless_step(self, self.stateful_train_step, state, data, groups)

    def test_step(self, *args):
        if backend() != "jax":
            return self.stateful_test_step(*args)
        state, data = args
        groups = [self.trainable_variables, self.non_trainable_variables, self.metrics_variables]
        return stateless_step(self, self.stateful_test_step, state, data, groups)

    def stateful_train_step(self, data):
        raise NotImplementedError(f"{type(self).__name__} defines no training step.")

    def stateful_test_step(self, data):
        raise NotImplementedError(f"{type(self).__name__} cannot be evaluated.")


class AdversarialTrainer(Trainer):
    """Base of the trainers that pit a generator against a discriminator.

    Holds one optimizer per network: ``compile(d_optimizer, g_optimizer)`` (Adam with
    learning rate 2e-4 and beta_1 0.5, the DCGAN and pix2pix setting, when omitted), wraps
    them in ``LossScaleOptimizer`` under ``mixed_float16``, builds them at once and saves
    them with the trainer.

    Example:
        >>> gan = keras_segen.GAN(keras_segen.get_model("dcgan_generator", "tiny"),
        ...                       keras_segen.get_model("dcgan_discriminator", "tiny"))
        >>> isinstance(gan, keras_segen.trainers.AdversarialTrainer)
        True
        >>> gan.compile()  # Adam(2e-4, beta_1=0.5) for each network
        >>> round(float(gan.g_optimizer.learning_rate), 6), float(gan.d_optimizer.beta_1)
        (0.0002, 0.5)
    """

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Sets one optimizer per network (built at once); ``mixed_float16`` adds loss scaling."""
        super().compile(**kwargs)
        optimizers = []
        for optimizer in (d_optimizer, g_optimizer):
            optimizer = optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
            if self.dtype_policy.name == "mixed_float16" and not isinstance(
                optimizer, keras.optimizers.LossScaleOptimizer
            ):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            optimizers.append(optimizer)
        self.d_optimizer, self.g_optimizer = optimizers
        self.optimizer = OptimizerGroup(optimizers)
        # Optimizer variables are created here, in the caller's distribution scope, rather
        # than lazily inside the first (replicated) train step, which MirroredStrategy rejects;
        # it also lets a loaded model restore them.
        # An optimizer kept through a recompile (a new phase, a resumed run) is built
        # already; LossScaleOptimizer.build would add a second loss scale.
        for optimizer, network in ((self.d_optimizer, self.discriminator),
                                   (self.g_optimizer, self.generator)):  # fmt: skip
            if not optimizer.built:
                optimizer.build(network.trainable_variables)

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
