"""The parts of the semi-supervised segmentation trainers that they share.

Both ``fit`` on ``((images, masks), unlabelled_images)`` batches and validate on
``(images, masks)`` batches; ``keras_segen.trainers.semi_supervised`` holds the trainers.
"""

import keras
from keras import ops

from keras_segen import losses, metrics
from keras_segen.trainers.adversarial_segmentation import labelled_batch
from keras_segen.trainers.backend import random_normal, random_uniform
from keras_segen.trainers.base import batch_images, track


def masked_binary_crossentropy(logits, target, valid):
    """Mean BCE of per-pixel ``logits (B, H, W, 1)`` against the constant ``target`` (0 or 1)
    over the pixels where ``valid (B, H, W)`` is 1; 0 when no pixel is valid.

    Example:
        >>> logits = np.zeros((1, 1, 2, 1))
        >>> loss = keras_segen.trainers.masked_binary_crossentropy
        >>> round(float(loss(logits, 1.0, np.array([[[1.0, 0.0]]]))), 4)  # ln 2
        0.6931
    """
    logits = ops.cast(logits, "float32")[..., 0]
    valid = ops.cast(valid, "float32")
    values = ops.softplus(logits) - target * logits
    return ops.sum(values * valid) / ops.maximum(ops.sum(valid), 1.0)


def pseudo_labels(logits, confidence, threshold, ignore_index=255):
    """The segmenter's classes where ``confidence > threshold``, else ``ignore_index``.

    Example:
        >>> logits = np.array([[[[2.0, 0.0], [0.0, 3.0]]]])
        >>> labels = keras_segen.trainers.pseudo_labels(logits, np.array([[[0.5, 0.1]]]), 0.2)
        >>> keras.ops.convert_to_numpy(labels).tolist()
        [[[0, 255]]]
    """
    classes = ops.cast(ops.argmax(logits, axis=-1), "int32")
    return ops.where(ops.greater(confidence, threshold), classes, ignore_index)


PERTURBATIONS = (None, "colour")


def perturb_colours(images, seed):
    """A colour-jittered, noisy copy of ``images (B, H, W, C)`` in ``[0, 1]``: per image, its
    saturation scaled by U(0, 1.6), contrast by U(0.6, 1.4), brightness shifted by
    U(-0.2, 0.2), then Gaussian noise of sd 0.03 per pixel; clipped to ``[0, 1]``.
    Geometry is untouched, so pseudo-labels of ``images`` stay aligned with the copy. Draws
    come from the ``SeedGenerator`` ``seed``, independent across replicas.

    Example:
        >>> images = np.full((2, 4, 4, 3), 0.5, "float32")
        >>> seed = keras.random.SeedGenerator(0)
        >>> copy = keras.ops.convert_to_numpy(
        ...     keras_segen.trainers.perturb_colours(images, seed))
        >>> copy.shape, bool(copy.min() >= 0 and copy.max() <= 1), bool((copy != 0.5).any())
        ((2, 4, 4, 3), True, True)
    """
    images = ops.cast(images, "float32")
    per_image = ops.shape(images)[:1] + (1, 1, 1)

    def uniform(low, high):
        return low + (high - low) * random_uniform(per_image, seed)

    grey = ops.mean(images, axis=-1, keepdims=True)
    images = grey + (images - grey) * uniform(0.0, 1.6)
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    images = (images - mean) * uniform(0.6, 1.4) + mean + uniform(-0.2, 0.2)
    images = images + 0.03 * random_normal(ops.shape(images), seed)
    return ops.clip(images, 0.0, 1.0)


def check_semi_options(warmup_steps, threshold, weights, perturbation=None, share=None):
    if perturbation not in PERTURBATIONS:
        raise ValueError(f"perturbation must be one of {PERTURBATIONS}; got {perturbation!r}.")
    if share is not None and not (isinstance(share, (int, float)) and 0.0 < share <= 1.0):
        raise ValueError(f"pseudo_label_share must be None or in (0, 1]; got {share!r}.")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0; got {warmup_steps!r}.")
    if not isinstance(threshold, (int, float)) or not 0.0 <= threshold < 1.0:
        raise ValueError(f"confidence_threshold must be in [0, 1); got {threshold!r}.")
    for name, value in weights.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")


def check_segmenter(trainer, segmenter):
    if len(segmenter.outputs) != 1 or len(segmenter.outputs[0].shape) != 4:
        raise ValueError(f"{trainer}: the segmenter must output one (B, H, W, classes) map.")
    num_classes = segmenter.outputs[0].shape[-1]
    if num_classes < 2:
        raise ValueError(
            f"{trainer} needs a segmenter with >= 2 output channels (class logits); for a "
            "binary task build it with num_classes=2."
        )
    return num_classes


class SemiSupervisedSteps:
    """What the semi-supervised trainers share: their batches, the pseudo-label loss,
    validation and config. Mixed in before ``Trainer`` or ``SegmenterAdversarialTrainer``."""

    def init_common(self, segmenter, loss, ignore_index, self_training_weight,
                    confidence_threshold, warmup_steps, perturbation, pseudo_label_share,
                    other_weights=None):  # fmt: skip
        """Checks the options (``other_weights``: a trainer's own loss weights by name) and
        sets what both trainers share."""
        weights = {"self_training_weight": self_training_weight, **(other_weights or {})}
        check_semi_options(warmup_steps, confidence_threshold, weights, perturbation,
                           pseudo_label_share)  # fmt: skip
        self.segmenter = segmenter
        self.perturbation = perturbation
        self.perturbation_seed = keras.random.SeedGenerator(0) if perturbation else None
        self.pseudo_label_share = pseudo_label_share
        self.loss_name = loss
        self.segmentation_loss = losses.segmentation_loss(loss, ignore_index)
        self.self_training_weight = float(self_training_weight)
        self.confidence_threshold = float(confidence_threshold)
        self.warmup_steps = int(warmup_steps)
        self.ignore_index = ignore_index
        self.built = True
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.segmentation_tracker = keras.metrics.Mean(name="segmentation_loss")
        self.self_training_tracker = keras.metrics.Mean(name="self_training_loss")
        self.fraction_tracker = keras.metrics.Mean(name="pseudo_label_fraction")
        self.mean_iou = metrics.MeanIoU(self.num_classes, ignore_index=ignore_index)

    def unpack(self, data):
        name = type(self).__name__
        if isinstance(data, (tuple, list)) and len(data) == 3 and data[1] is None:
            data = data[0]  # train_on_batch(x) packs (x, None, None)
        if (
            not isinstance(data, (tuple, list))
            or len(data) != 2
            or not isinstance(data[0], (tuple, list))
        ):
            raise ValueError(
                f"{name} trains on ((images, masks), unlabelled_images) batches "
                "(keras_segen.data.with_unlabelled)."
            )
        images, masks = labelled_batch(data[0], name)
        unlabelled = ops.cast(batch_images(data[1]), "float32")
        if len(unlabelled.shape) != 4 or unlabelled.shape[-1] != images.shape[-1]:
            raise ValueError(
                f"{name}: unlabelled images must be (B, H, W, {images.shape[-1]}); got "
                f"{tuple(unlabelled.shape)}."
            )
        return images, masks, unlabelled

    def self_training(self, unlabelled, logits, confidence, iterations):
        """``(loss, selected fraction)``; the loss counts only after the warm-up.

        The pseudo-labels are the classes of ``logits``, the segmenter's prediction on
        ``unlabelled``; with a ``perturbation`` the loss is on its prediction for a perturbed
        copy of ``unlabelled`` (FixMatch's weak and strong views), else on ``logits``.
        """
        if self.pseudo_label_share is None:
            labels = pseudo_labels(logits, confidence, self.confidence_threshold,
                                   self.ignore_index)  # fmt: skip
        else:
            cut = ops.quantile(ops.reshape(confidence, (-1,)), 1.0 - self.pseudo_label_share)
            classes = ops.cast(ops.argmax(logits, axis=-1), "int32")
            labels = ops.where(ops.greater_equal(confidence, cut), classes, self.ignore_index)
        if self.perturbation == "colour":
            perturbed = perturb_colours(unlabelled, self.perturbation_seed)
            logits = self.segmenter(perturbed, training=True)
        loss = losses.sparse_categorical_crossentropy(
            labels, logits, ignore_index=self.ignore_index
        )
        started = ops.cast(ops.greater_equal(iterations, self.warmup_steps), "float32")
        fraction = ops.mean(ops.cast(ops.not_equal(labels, self.ignore_index), "float32"))
        return loss * started, fraction

    def stateful_test_step(self, data):
        images, masks = labelled_batch(data, type(self).__name__)
        logits = self.segmenter(images, training=False)
        segmentation = losses.batch_mean(self.segmentation_loss, masks, logits)
        self.mean_iou.update_state(masks, logits)
        return track([self.segmentation_tracker], [segmentation]) | {
            "mean_iou": self.mean_iou.result()
        }

    def common_config(self):
        return {
            "segmenter": keras.saving.serialize_keras_object(self.segmenter),
            "loss": self.loss_name,
            "self_training_weight": self.self_training_weight,
            "confidence_threshold": self.confidence_threshold,
            "warmup_steps": self.warmup_steps,
            "ignore_index": self.ignore_index,
            "perturbation": self.perturbation,
            "pseudo_label_share": self.pseudo_label_share,
        }
