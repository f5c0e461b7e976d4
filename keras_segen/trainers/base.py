"""Pieces shared by the custom-train-step trainers (GAN, VAE, Pix2Pix, ...).

Two things matter under ``tf.distribute.MirroredStrategy``: the optimizer *sums* the
gradients of the replicas, so a loss that is a mean over the local batch must be divided
by the number of replicas (as Keras does for compiled losses); and every replica must draw
different random numbers, which a shared ``SeedGenerator`` alone does not give.
"""

import keras
import tensorflow as tf
from keras import ops


def batch_images(data):
    """The images of a ``fit`` batch: ``data`` itself, or its first element for tuples."""
    return data[0] if isinstance(data, (tuple, list)) else data


def deserialize_submodels(config, keys, custom_objects=None):
    """A copy of ``config`` with the serialised sub-models under ``keys`` rebuilt."""
    config = dict(config)
    for key in keys:
        config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
    return config


def scaled_loss(optimizer, loss):
    """The loss to differentiate: divided by the replica count, then loss-scaled.

    Call it inside the ``GradientTape``: the optimizer all-reduces gradients with a sum, so
    dividing each replica's batch mean by the replica count gives the global mean.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return optimizer.scale_loss(loss / replicas if replicas > 1 else loss)


def apply_gradients(optimizer, tape, loss, variables):
    """Applies the gradients of ``loss`` (from ``scaled_loss``) taken on ``tape``."""
    optimizer.apply(tape.gradient(loss, variables), variables)


def _replica_seed(seed_generator):
    """A stateless seed from ``seed_generator``, different on every replica."""
    seed = ops.cast(seed_generator.next(), "int64")
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    return seed + tf.stack([tf.constant(0, tf.int64), tf.cast(replica, tf.int64)])


def random_normal(shape, seed_generator):
    """Standard-normal float32 draws, independent across replicas."""
    return tf.random.stateless_normal(shape, _replica_seed(seed_generator))


def random_uniform(shape, seed_generator):
    """Uniform [0, 1) float32 draws, independent across replicas."""
    return tf.random.stateless_uniform(shape, _replica_seed(seed_generator))


def track(trackers, values):
    """Updates each ``Mean`` tracker with its value; returns ``{name: result}`` for all."""
    for tracker, value in zip(trackers, values):
        tracker.update_state(value)
    return {tracker.name: tracker.result() for tracker in trackers}


def optimizers_in_use(model):
    """``{prefix: optimizer}`` of the optimizers ``fit`` updates.

    Adversarial trainers give ``{"g": ..., "d": ...}`` (their inherited ``optimizer`` is
    Keras' unused default); a compiled model ``{"": model.optimizer}``; else ``{}``.
    """
    if isinstance(getattr(model, "g_optimizer", None), keras.optimizers.Optimizer):
        return {"g": model.g_optimizer, "d": model.d_optimizer}
    optimizer = getattr(model, "optimizer", None)
    return {"": optimizer} if isinstance(optimizer, keras.optimizers.Optimizer) else {}


class AdversarialTrainer(keras.Model):
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
