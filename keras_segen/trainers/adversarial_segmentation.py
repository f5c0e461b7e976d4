"""Adversarial training of a segmenter (Luc, Couprie, Chintala & Verbeek, 2016)."""

import keras
from keras import ops

from keras_segen import losses, metrics
from keras_segen.trainers.backend import minimize
from keras_segen.trainers.base import AdversarialTrainer, deserialize_submodels, track
from keras_segen.trainers.gan import discriminator_loss, generator_loss


def scale_ground_truth(one_hot, probabilities, tau):
    """Luc et al.'s "scaling" encoding of the ground truth, so it is not trivially one-hot.

    The true class gets ``max(tau, p_true)``; the other classes share the rest in the
    proportions the segmenter predicted. Pixels whose ``one_hot`` is all zero (ignored)
    stay zero.
    """
    p_true = ops.sum(one_hot * probabilities, axis=-1, keepdims=True)
    true_value = ops.maximum(tau, p_true)
    others = probabilities * (1.0 - true_value) / ops.maximum(1.0 - p_true, 1e-6)
    valid = ops.sum(one_hot, axis=-1, keepdims=True)
    return (one_hot * true_value + (1.0 - one_hot) * others) * valid


def labelled_batch(data, trainer):
    """``(float32 images, int32 masks (B, H, W))`` of an ``(image, mask)`` batch, checked."""
    if not isinstance(data, (tuple, list)) or len(data) < 2:
        raise ValueError(f"{trainer} trains on (image, mask) batches.")
    images, masks = data[0], data[1]
    if len(masks.shape) == 4:
        masks = masks[..., 0]
    if len(images.shape) != 4 or len(masks.shape) != 3:
        raise ValueError(
            f"{trainer}: images must be (B, H, W, C) and masks (B, H, W) or (B, H, W, 1); "
            f"got {tuple(images.shape)} and {tuple(data[1].shape)}."
        )
    sizes = (tuple(images.shape[1:3]), tuple(masks.shape[1:3]))
    if None not in sizes[0] + sizes[1] and sizes[0] != sizes[1]:
        raise ValueError(
            f"{trainer}: masks of size {sizes[1]} do not match images of size {sizes[0]}."
        )
    return ops.cast(images, "float32"), ops.cast(masks, "int32")


class SegmenterAdversarialTrainer(AdversarialTrainer):
    """Base of the trainers that pit a ``segmenter`` against a ``discriminator``.

    Calling the trainer runs the segmenter; ``compile(optimizer, d_optimizer)`` takes the
    segmenter's optimizer first (default Adam 1e-3) and the discriminator's second
    (default: ``default_d_optimizer()``, else ``AdversarialTrainer``'s Adam 2e-4, beta_1
    0.5).

    Example:
        >>> trainer = keras_segen.AdversarialSegmenter(
        ...     keras_segen.get_model("unet", "tiny"),
        ...     keras_segen.get_model("label_map_discriminator", "tiny"))
        >>> isinstance(trainer, keras_segen.trainers.SegmenterAdversarialTrainer)
        True
        >>> trainer.compile()
        >>> trainer.generator is trainer.segmenter, float(trainer.d_optimizer.beta_1)
        (True, 0.5)
    """

    def default_d_optimizer(self):
        """The discriminator's optimizer when ``compile`` is given none (``None``: the
        base class's)."""
        return None

    @property
    def generator(self):
        """The network the second optimizer trains (the base class's name for it)."""
        return self.segmenter

    def call(self, images, training=False):
        """The segmenter's logits."""
        return self.segmenter(images, training=training)

    def compile(self, optimizer=None, d_optimizer=None, **kwargs):
        """``optimizer`` trains the segmenter, ``d_optimizer`` the discriminator."""
        super().compile(
            d_optimizer=d_optimizer or self.default_d_optimizer(),
            g_optimizer=optimizer or keras.optimizers.Adam(1e-3),
            **kwargs,
        )

    def compile_from_config(self, config):
        self.compile(
            optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
        )


@keras.saving.register_keras_serializable(package="keras_segen")
class AdversarialSegmenter(SegmenterAdversarialTrainer):
    """Trains any segmenter with ``fit`` on ``(image, mask)`` batches plus an adversarial term.

    Luc et al. 2016: a discriminator sees ``[image, label map]`` pairs and learns to tell
    ground-truth maps from the segmenter's softmax maps; the segmenter minimises its
    segmentation loss plus ``adversarial_weight`` (lambda) times the non-saturating
    adversarial loss ``-log D(image, s(image))``, which rewards label maps whose
    higher-order structure looks like the ground truth's. Ground truth is encoded with the
    paper's "scaling" scheme (``scaling_tau``; ``None`` gives plain one-hot, which a
    discriminator can tell from any softmax output by its values alone). Ignored pixels
    are zeroed in both maps, so they carry no signal.

    Calling the trainer runs the segmenter; ``segmenter`` is the network to save, export
    and deploy. Metrics: ``loss`` (segmenter total), ``segmentation_loss``,
    ``adversarial_loss``, ``d_loss``, ``mean_iou``; validation reports
    ``segmentation_loss`` and ``mean_iou``.

    Args:
        segmenter: any segmentation model ``image -> logits (B, H, W, C)``.
        discriminator: ``[image, label map] -> logits`` (``keras_segen.label_map_discriminator``).
        adversarial_weight: lambda; 0 gives plain training (the discriminator still learns).
        loss: segmentation loss name (``keras_segen.losses.SEGMENTATION_LOSSES``; the paper
            uses ``"ce"``).
        scaling_tau: minimum probability of the true class in the encoded ground truth.
        ignore_index: mask value that is not a class.

    Example:
        >>> data = keras_segen.data.load_segmentation(
        ...     "shapes", image_size=64, batch_size=4, num_examples=8)
        >>> trainer = keras_segen.AdversarialSegmenter(
        ...     keras_segen.unet((64, 64, 3), num_classes=4, filters=8),
        ...     keras_segen.label_map_discriminator((64, 64, 3), num_classes=4, filters=8),
        ...     adversarial_weight=0.1)
        >>> trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
        >>> history = trainer.fit(data, validation_data=data, epochs=2, verbose=0)
        >>> sorted(history.history)
        ['adversarial_loss', 'd_loss', 'loss', 'mean_iou', 'segmentation_loss',
         'val_mean_iou', 'val_segmentation_loss']
        >>> trainer.segmenter.save("segmenter.keras")  # a plain U-Net for predict and export
    """

    def __init__(
        self,
        segmenter,
        discriminator,
        adversarial_weight=0.1,
        loss="ce",
        scaling_tau=0.9,
        ignore_index=255,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(adversarial_weight, (int, float)) or adversarial_weight < 0:
            raise ValueError(
                f"adversarial_weight must be a number >= 0; got {adversarial_weight!r}."
            )
        if scaling_tau is not None and not 0.0 < scaling_tau <= 1.0:
            raise ValueError(f"scaling_tau must be None or in (0, 1]; got {scaling_tau!r}.")
        if len(segmenter.outputs) != 1 or len(segmenter.outputs[0].shape) != 4:
            raise ValueError(
                "AdversarialSegmenter: the segmenter must output one (B, H, W, classes) map."
            )
        self.num_classes = segmenter.outputs[0].shape[-1]
        if self.num_classes < 2:
            raise ValueError(
                "AdversarialSegmenter needs a segmenter with >= 2 output channels (class "
                "logits); for a binary task build it with num_classes=2."
            )
        if len(discriminator.inputs) != 2:
            raise ValueError(
                "AdversarialSegmenter: the discriminator must take [image, label map] "
                f"(e.g. label_map_discriminator); it takes {len(discriminator.inputs)} input(s)."
            )
        image_channels = segmenter.inputs[0].shape[-1]
        expected = (image_channels, self.num_classes)
        given = tuple(tensor.shape[-1] for tensor in discriminator.inputs)
        if given != expected:
            raise ValueError(
                f"AdversarialSegmenter: the discriminator takes inputs with {given} channels; "
                f"the segmenter needs [image with {image_channels}, label map with "
                f"{self.num_classes}]. Build it with label_map_discriminator(input_shape, "
                f"num_classes={self.num_classes})."
            )
        self.segmenter = segmenter
        self.discriminator = discriminator
        self.adversarial_weight = float(adversarial_weight)
        self.loss_name = loss
        self.segmentation_loss = losses.segmentation_loss(loss, ignore_index)
        self.scaling_tau = scaling_tau
        self.ignore_index = ignore_index
        self.built = True
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.segmentation_tracker = keras.metrics.Mean(name="segmentation_loss")
        self.adversarial_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.mean_iou = metrics.MeanIoU(self.num_classes, ignore_index=ignore_index)

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.segmentation_tracker,
            self.adversarial_tracker,
            self.d_loss_tracker,
            self.mean_iou,
        ]

    def label_maps(self, masks, logits):
        """``(ground truth, predicted)`` class distributions as the discriminator sees them."""
        valid = ops.expand_dims(ops.cast(ops.not_equal(masks, self.ignore_index), "float32"), -1)
        one_hot = ops.one_hot(ops.where(masks == self.ignore_index, 0, masks), self.num_classes)
        one_hot = one_hot * valid
        predicted = ops.softmax(ops.cast(logits, "float32"), axis=-1) * valid
        if self.scaling_tau is None:
            return one_hot, predicted
        return scale_ground_truth(
            one_hot, ops.stop_gradient(predicted), self.scaling_tau
        ), predicted

    def _step_losses(self, images, masks):
        """``(d_loss, total, segmentation, adversarial, logits)`` from one forward pass."""
        logits = self.segmenter(images, training=True)
        truth, predicted = self.label_maps(masks, logits)
        real_logits = self.discriminator([images, truth], training=True)
        fake_logits = self.discriminator([images, predicted], training=True)
        segmentation = losses.batch_mean(self.segmentation_loss, masks, logits)
        adversarial = generator_loss(fake_logits)
        total = segmentation + self.adversarial_weight * adversarial
        d_loss = discriminator_loss(real_logits, fake_logits)
        return d_loss, total, segmentation, adversarial, logits

    def stateful_train_step(self, data):
        images, masks = labelled_batch(data, "AdversarialSegmenter")
        d_loss, total, segmentation, adversarial, logits = minimize(
            self,
            lambda: self._step_losses(images, masks),
            [
                (self.d_optimizer, self.discriminator.trainable_weights),
                (self.g_optimizer, self.segmenter.trainable_weights),
            ],
        )
        self.mean_iou.update_state(masks, logits)
        return track(self.metrics[:4], [total, segmentation, adversarial, d_loss]) | {
            "mean_iou": self.mean_iou.result()
        }

    def stateful_test_step(self, data):
        images, masks = labelled_batch(data, "AdversarialSegmenter")
        logits = self.segmenter(images, training=False)
        segmentation = losses.batch_mean(self.segmentation_loss, masks, logits)
        self.mean_iou.update_state(masks, logits)
        return track([self.segmentation_tracker], [segmentation]) | {
            "mean_iou": self.mean_iou.result()
        }

    def get_config(self):
        return {
            **super().get_config(),
            "segmenter": keras.saving.serialize_keras_object(self.segmenter),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "adversarial_weight": self.adversarial_weight,
            "loss": self.loss_name,
            "scaling_tau": self.scaling_tau,
            "ignore_index": self.ignore_index,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("segmenter", "discriminator"), custom_objects))
