"""Semi-supervised segmentation: Hung et al. 2018's adversarial method, and plain self-training.

Both trainers ``fit`` on ``((images, masks), unlabelled_images)`` batches
(``keras_segen.data.with_unlabelled``) and validate on ``(images, masks)`` batches. On the
unlabelled images the segmenter's own prediction becomes the target (a pseudo-label) at
the pixels it is confident about, after ``warmup_steps``: confidence is the
discriminator's (``SemiSupervisedSegmenter``) or the segmenter's top softmax probability
(``SelfTrainingSegmenter``, the ablation without a GAN). ``segmenter`` is the network to
save, export and deploy.
"""

import keras
from keras import ops

from keras_segen import losses
from keras_segen.trainers.adversarial_segmentation import (
    SegmenterAdversarialTrainer,
    scale_ground_truth,
)
from keras_segen.trainers.backend import minimize
from keras_segen.trainers.base import Trainer, deserialize_submodels, track
from keras_segen.trainers.semi_supervised_steps import (
    SemiSupervisedSteps,
    check_segmenter,
    masked_binary_crossentropy,
)


@keras.saving.register_keras_serializable(package="keras_segen")
class SemiSupervisedSegmenter(SemiSupervisedSteps, SegmenterAdversarialTrainer):
    """Semi-supervised adversarial segmentation (Hung, Tsai, Liou, Lin & Yang, BMVC 2018).

    A fully convolutional discriminator (``keras_segen.confidence_discriminator``) learns,
    per pixel, to tell one-hot ground-truth maps (target 1) from the segmenter's softmax
    maps on labelled and unlabelled images (target 0). The segmenter minimises

        CE(labelled) + adversarial_weight * BCE(D(s(labelled)), 1)
        + unlabelled_adversarial_weight * BCE(D(s(unlabelled)), 1)
        + self_training_weight * CE(s(unlabelled), pseudo-labels)

    where the pseudo-labels are the segmenter's classes at the pixels whose discriminator
    confidence ``sigmoid(D)`` exceeds ``confidence_threshold``, counted from
    ``warmup_steps`` on. Defaults are the authors' (hfslyc/AdvSemiSeg: 0.01, 0.001, 0.1,
    0.2, 5000 of 20000 steps; discriminator Adam 1e-4, betas (0.9, 0.99)). Ignored pixels
    of the labelled masks take no part in any term. Measured on ``streets`` with 50
    labelled scenes (benchmarks/results/fusion.md): the defaults gain +0.005 mIoU over
    supervised-only, ``self_training_weight=1.0, pseudo_label_share=0.7,
    perturbation="colour"`` +0.048 (and ``SelfTrainingSegmenter`` with the same, +0.050).

    Metrics: ``loss`` (segmenter total), ``segmentation_loss``, ``adversarial_loss``,
    ``unlabelled_adversarial_loss``, ``self_training_loss``, ``pseudo_label_fraction``
    (the share of unlabelled pixels above the threshold), ``d_loss``, ``mean_iou``;
    validation reports ``segmentation_loss`` and ``mean_iou``.

    Args:
        segmenter: any segmentation model ``image -> logits (B, H, W, C)``.
        discriminator: ``label map (B, H, W, C) -> logits (B, H, W, 1)``.
        adversarial_weight: lambda_adv on labelled images.
        unlabelled_adversarial_weight: lambda_semi_adv on unlabelled images.
        self_training_weight: lambda_semi.
        confidence_threshold: T_semi on ``sigmoid(D)``.
        warmup_steps: segmenter steps before the self-training term counts.
        loss: segmentation loss name on labelled images (``"ce"`` in the paper).
        ignore_index: mask value that is not a class.
        scaling_tau: ``None`` (the paper: one-hot ground truth) or Luc et al.'s "scaling"
            of the ground truth the discriminator sees (``scale_ground_truth``), so that it
            cannot tell truth from predictions by their values alone.
        perturbation: ``None`` (the paper: the pseudo-label loss on the same prediction
            that made the labels) or ``"colour"``: the loss on the segmenter's prediction for
            a colour-jittered, noisy copy of the unlabelled batch (``perturb_colours``), the
            pseudo-labels still from the unperturbed one (FixMatch's weak and strong views).
        pseudo_label_share: ``None`` (pixels above ``confidence_threshold``) or a share in
            ``(0, 1]``: the pseudo-labels are that share of each unlabelled batch's pixels,
            those of highest confidence (a threshold relative to the confidence's spread,
            which still ranks pixels when a discriminator's confidence falls below T).

    Example:
        >>> labelled = keras_segen.data.load_segmentation(
        ...     "shapes", image_size=32, batch_size=4, num_examples=8)
        >>> unlabelled = keras_segen.data.load_unlabelled("shapes", 32, num_examples=16)
        >>> batches = keras_segen.data.with_unlabelled(labelled, unlabelled.batch(4))
        >>> trainer = keras_segen.SemiSupervisedSegmenter(
        ...     keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2),
        ...     keras_segen.confidence_discriminator((32, 32, 4), filters=8), warmup_steps=2)
        >>> trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
        >>> history = trainer.fit(batches, validation_data=labelled, epochs=1, verbose=0)
        >>> sorted(history.history)[:4]
        ['adversarial_loss', 'd_loss', 'loss', 'mean_iou']
        >>> trainer.segmenter.save("segmenter.keras")  # a plain U-Net
    """

    def __init__(self, segmenter, discriminator, adversarial_weight=0.01,
                 unlabelled_adversarial_weight=0.001, self_training_weight=0.1,
                 confidence_threshold=0.2, warmup_steps=5000, loss="ce", ignore_index=255,
                 scaling_tau=None, perturbation=None, pseudo_label_share=None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        name = "SemiSupervisedSegmenter"
        if scaling_tau is not None and not 0.0 < scaling_tau <= 1.0:
            raise ValueError(f"scaling_tau must be None or in (0, 1]; got {scaling_tau!r}.")
        self.scaling_tau = scaling_tau
        self.num_classes = check_segmenter(name, segmenter)
        if len(discriminator.inputs) != 1 or discriminator.inputs[0].shape[-1] != self.num_classes:
            raise ValueError(
                f"{name}: the discriminator must take one label map of {self.num_classes} "
                "channels; build it with confidence_discriminator((H, W, "
                f"{self.num_classes}))."
            )
        if len(discriminator.outputs[0].shape) != 4:
            raise ValueError(f"{name}: the discriminator must output a (B, H, W, 1) logit map.")
        self.init_common(segmenter, loss, ignore_index, self_training_weight,
                          confidence_threshold, warmup_steps, perturbation,
                          pseudo_label_share, {
                              "adversarial_weight": adversarial_weight,
                              "unlabelled_adversarial_weight": unlabelled_adversarial_weight,
                          })  # fmt: skip
        self.discriminator = discriminator
        self.adversarial_weight = float(adversarial_weight)
        self.unlabelled_adversarial_weight = float(unlabelled_adversarial_weight)
        self.adversarial_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.unlabelled_adversarial_tracker = keras.metrics.Mean(
            name="unlabelled_adversarial_loss"
        )
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.segmentation_tracker,
            self.adversarial_tracker,
            self.unlabelled_adversarial_tracker,
            self.self_training_tracker,
            self.fraction_tracker,
            self.d_loss_tracker,
            self.mean_iou,
        ]

    def default_d_optimizer(self):
        """Adam 1e-4, betas (0.9, 0.99), as in the authors' code."""
        return keras.optimizers.Adam(1e-4, beta_1=0.9, beta_2=0.99)

    def _step_losses(self, images, masks, unlabelled):
        logits = self.segmenter(images, training=True)
        unlabelled_logits = self.segmenter(unlabelled, training=True)
        valid = ops.cast(ops.not_equal(masks, self.ignore_index), "float32")
        everywhere = ops.ones_like(unlabelled_logits[..., 0], dtype="float32")
        truth = ops.one_hot(ops.where(valid > 0, masks, 0), self.num_classes) * valid[..., None]
        probabilities = ops.softmax(ops.cast(logits, "float32"))
        if self.scaling_tau is not None:
            truth = scale_ground_truth(truth, ops.stop_gradient(probabilities), self.scaling_tau)
        fake = self.discriminator(probabilities, training=True)
        fake_unlabelled = self.discriminator(
            ops.softmax(ops.cast(unlabelled_logits, "float32")), training=True
        )
        real = self.discriminator(truth, training=True)

        segmentation = losses.batch_mean(self.segmentation_loss, masks, logits)
        adversarial = masked_binary_crossentropy(fake, 1.0, valid)
        unlabelled_adversarial = masked_binary_crossentropy(fake_unlabelled, 1.0, everywhere)
        confidence = ops.sigmoid(ops.stop_gradient(ops.cast(fake_unlabelled, "float32")))[..., 0]
        self_training, fraction = self.self_training(
            unlabelled, unlabelled_logits, confidence, self.g_optimizer.iterations
        )
        total = (
            segmentation
            + self.adversarial_weight * adversarial
            + self.unlabelled_adversarial_weight * unlabelled_adversarial
            + self.self_training_weight * self_training
        )
        # The segmenter's maps of both batches are one "fake" batch, as in the authors' code;
        # minimize() differentiates d_loss for the discriminator's weights only.
        fakes = ops.concatenate([fake, fake_unlabelled], axis=0)
        fake_valid = ops.concatenate([valid, everywhere], axis=0)
        d_loss = 0.5 * (
            masked_binary_crossentropy(fakes, 0.0, fake_valid)
            + masked_binary_crossentropy(real, 1.0, valid)
        )
        parts = (segmentation, adversarial, unlabelled_adversarial, self_training, fraction)
        return d_loss, total, parts, logits

    def stateful_train_step(self, data):
        images, masks, unlabelled = self.unpack(data)
        d_loss, total, parts, logits = minimize(
            self,
            lambda: self._step_losses(images, masks, unlabelled),
            [
                (self.d_optimizer, self.discriminator.trainable_weights),
                (self.g_optimizer, self.segmenter.trainable_weights),
            ],
        )
        self.mean_iou.update_state(masks, logits)
        return track(self.metrics[:7], [total, *parts, d_loss]) | {
            "mean_iou": self.mean_iou.result()
        }

    def get_config(self):
        return {
            **super().get_config(),
            **self.common_config(),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "adversarial_weight": self.adversarial_weight,
            "unlabelled_adversarial_weight": self.unlabelled_adversarial_weight,
            "scaling_tau": self.scaling_tau,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("segmenter", "discriminator"), custom_objects))


@keras.saving.register_keras_serializable(package="keras_segen")
class SelfTrainingSegmenter(SemiSupervisedSteps, Trainer):
    """Confidence-threshold self-training: the ablation of ``SemiSupervisedSegmenter``
    without a discriminator.

    The segmenter minimises ``CE(labelled) + self_training_weight * CE(s(unlabelled),
    pseudo-labels)``, the pseudo-labels being its classes where its own top softmax
    probability exceeds ``confidence_threshold`` (from ``warmup_steps`` on). Metrics:
    ``loss``, ``segmentation_loss``, ``self_training_loss``, ``pseudo_label_fraction``,
    ``mean_iou``.

    Args:
        segmenter: any segmentation model ``image -> logits (B, H, W, C)``.
        self_training_weight: weight of the pseudo-label term.
        confidence_threshold: on the top softmax probability.
        warmup_steps: steps before the pseudo-label term counts.
        loss: segmentation loss name on labelled images.
        ignore_index: mask value that is not a class.
        perturbation: ``None`` or ``"colour"``, as in ``SemiSupervisedSegmenter``.
        pseudo_label_share: ``None`` or a share in ``(0, 1]``, as in
            ``SemiSupervisedSegmenter`` (ranked by the top softmax probability).

    Example:
        >>> labelled = keras_segen.data.load_segmentation(
        ...     "shapes", image_size=32, batch_size=4, num_examples=8)
        >>> unlabelled = keras_segen.data.load_unlabelled("shapes", 32, num_examples=8)
        >>> trainer = keras_segen.SelfTrainingSegmenter(
        ...     keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2))
        >>> trainer.compile(keras.optimizers.Adam(1e-3))
        >>> batches = keras_segen.data.with_unlabelled(labelled, unlabelled.batch(4))
        >>> sorted(trainer.fit(batches, epochs=1, verbose=0).history)
        ['loss', 'mean_iou', 'pseudo_label_fraction', 'segmentation_loss', 'self_training_loss']
    """

    def __init__(self, segmenter, self_training_weight=0.1, confidence_threshold=0.9,
                 warmup_steps=5000, loss="ce", ignore_index=255, perturbation=None,
                 pseudo_label_share=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.num_classes = check_segmenter("SelfTrainingSegmenter", segmenter)
        self.init_common(segmenter, loss, ignore_index, self_training_weight,
                          confidence_threshold, warmup_steps, perturbation,
                          pseudo_label_share)  # fmt: skip

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.segmentation_tracker,
            self.self_training_tracker,
            self.fraction_tracker,
            self.mean_iou,
        ]

    def call(self, images, training=False):
        """The segmenter's logits."""
        return self.segmenter(images, training=training)

    def compile(self, optimizer=None, **kwargs):
        """``optimizer`` trains the segmenter (default Adam 1e-3); built at once."""
        super().compile(optimizer=optimizer or keras.optimizers.Adam(1e-3), **kwargs)
        self.optimizer.build(self.segmenter.trainable_variables)

    def get_compile_config(self):
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(keras.saving.deserialize_keras_object(config["optimizer"]))

    def _step_losses(self, images, masks, unlabelled):
        logits = self.segmenter(images, training=True)
        unlabelled_logits = self.segmenter(unlabelled, training=True)
        probabilities = ops.softmax(ops.stop_gradient(ops.cast(unlabelled_logits, "float32")))
        confidence = ops.max(probabilities, axis=-1)
        segmentation = losses.batch_mean(self.segmentation_loss, masks, logits)
        self_training, fraction = self.self_training(
            unlabelled, unlabelled_logits, confidence, self.optimizer.iterations
        )
        total = segmentation + self.self_training_weight * self_training
        return total, (segmentation, self_training, fraction), logits

    def stateful_train_step(self, data):
        images, masks, unlabelled = self.unpack(data)
        total, parts, logits = minimize(
            self,
            lambda: self._step_losses(images, masks, unlabelled),
            [(self.optimizer, self.segmenter.trainable_weights)],
        )
        self.mean_iou.update_state(masks, logits)
        return track(self.metrics[:4], [total, *parts]) | {"mean_iou": self.mean_iou.result()}

    def get_config(self):
        return {**super().get_config(), **self.common_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_submodels(config, ("segmenter",), custom_objects))
