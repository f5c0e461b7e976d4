"""pix2pix trainer: conditional adversarial loss + lambda * L1 (Isola et al., CVPR 2017)."""

import keras
from keras import ops

from keras_segen.trainers.backend import minimize
from keras_segen.trainers.base import AdversarialTrainer, deserialize_submodels, track
from keras_segen.trainers.gan import discriminator_loss, generator_loss

PIX2PIX_LOSSES = ("bce", "hinge")


@keras.saving.register_keras_serializable(package="keras_segen")
class Pix2Pix(AdversarialTrainer):
    """Trains an image-to-image generator with ``fit`` on ``(source, target)`` batches.

    Isola et al. 2017: the generator minimises the conditional adversarial loss plus
    ``l1_weight`` times the L1 distance to the target (lambda = 100 in the paper); the
    PatchGAN discriminator sees ``[source, real target]`` and ``[source, generated]``
    and its objective is halved, as in the paper. Both directions work:

    - **label map -> image** (semantic image synthesis): set ``num_classes``; sources are
      sparse label maps ``(B, H, W)`` or ``(B, H, W, 1)`` and are one-hot encoded (a
      value outside ``[0, num_classes)``, such as an ignore index, becomes all zeros);
      the generator's input has ``num_classes`` channels.
    - **image -> image**: ``num_classes=None``; sources are images.

    Targets are images in [-1, 1].

    Args:
        generator: ``source -> image`` (e.g. ``keras_segen.pix2pix_generator``).
        discriminator: ``[source, image] -> logits`` (e.g.
            ``keras_segen.patchgan_discriminator``).
        l1_weight: weight of the L1 term.
        num_classes: classes of label-map sources, or ``None`` for image sources.
        loss: adversarial loss, ``"bce"`` (the paper) or ``"hinge"``.

    Example:
        >>> pairs = keras_segen.data.load_segmentation(
        ...     "shapes_coloured", image_size=64, batch_size=4, num_examples=8)
        >>> masks_and_images = pairs.map(lambda image, mask: (mask, image * 2 - 1))
        >>> pix2pix = keras_segen.Pix2Pix(
        ...     keras_segen.pix2pix_generator((64, 64, 4), filters=16),
        ...     keras_segen.patchgan_discriminator((64, 64, 4), filters=16), num_classes=4)
        >>> pix2pix.compile()
        >>> history = pix2pix.fit(masks_and_images, epochs=2, verbose=0)
        >>> masks = next(iter(masks_and_images))[0]
        >>> pix2pix(masks).shape  # label maps in, images in [-1, 1] out
        TensorShape([4, 64, 64, 3])
    """

    def __init__(
        self, generator, discriminator, l1_weight=100.0, num_classes=None, loss="bce", **kwargs
    ):
        super().__init__(**kwargs)
        if loss not in PIX2PIX_LOSSES:
            raise ValueError(f"loss must be one of {PIX2PIX_LOSSES}; got {loss!r}.")
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0; got {l1_weight!r}.")
        source_channels = generator.inputs[0].shape[-1]
        if num_classes is not None and num_classes != source_channels:
            raise ValueError(
                f"num_classes={num_classes} does not match the generator's input channels "
                f"{source_channels}: a label -> image generator takes the one-hot label map, "
                f"so build it with input_shape=(H, W, {num_classes})."
            )
        if len(discriminator.inputs) != 2:
            raise ValueError(
                f"{type(self).__name__}: the discriminator must take [source, image] (a "
                "conditional discriminator such as patchgan_discriminator); it takes "
                f"{len(discriminator.inputs)} input(s)."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = l1_weight
        self.num_classes = num_classes
        self.loss_name = loss
        self.built = True
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.adversarial_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.l1_tracker = keras.metrics.Mean(name="l1_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.adversarial_tracker, self.l1_tracker]

    def prepare_source(self, source):
        """One-hot encodes label-map sources (``num_classes`` set); images pass unchanged."""
        if self.num_classes is None:
            return ops.cast(source, "float32")
        if len(source.shape) == 4:
            if source.shape[-1] != 1:
                raise ValueError(
                    f"Pix2Pix(num_classes={self.num_classes}) takes sparse label maps "
                    f"(B, H, W) or (B, H, W, 1); got a source of shape {tuple(source.shape)}. "
                    "For one-hot or image sources use num_classes=None."
                )
            source = source[..., 0]
        if len(source.shape) != 3:
            raise ValueError(
                f"Pix2Pix label maps must be (B, H, W) or (B, H, W, 1); got {tuple(source.shape)}."
            )
        return ops.one_hot(ops.cast(source, "int32"), self.num_classes)

    def call(self, source, training=False):
        """Generates images from sources (label maps or images)."""
        return self.generator(self.prepare_source(source), training=training)

    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("Pix2Pix trains on (source, target) batches.")
        return self.prepare_source(data[0]), ops.cast(data[1], "float32")

    def _step_losses(self, source, target):
        """``(d_loss, g_loss, adversarial, l1)`` from one forward pass of both networks."""
        fake = ops.cast(self.generator(source, training=True), "float32")
        real_logits = self.discriminator([source, target], training=True)
        fake_logits = self.discriminator([source, fake], training=True)
        d_loss = 0.5 * discriminator_loss(real_logits, fake_logits, self.loss_name)
        adversarial = generator_loss(fake_logits, self.loss_name)
        l1 = ops.mean(ops.abs(target - fake))
        return d_loss, adversarial + self.l1_weight * l1, adversarial, l1

    def stateful_train_step(self, data):
        source, target = self._unpack(data)
        losses = minimize(
            self,
            lambda: self._step_losses(source, target),
            [
                (self.d_optimizer, self.discriminator.trainable_weights),
                (self.g_optimizer, self.generator.trainable_weights),
            ],
        )
        return track(self.metrics, losses)

    def stateful_test_step(self, data):
        source, target = self._unpack(data)
        fake = ops.cast(self.generator(source, training=False), "float32")
        return track([self.l1_tracker], [ops.mean(ops.abs(target - fake))])

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "l1_weight": self.l1_weight,
            "num_classes": self.num_classes,
            "loss": self.loss_name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("generator", "discriminator"), custom_objects))
