"""The parts of the semi-supervised segmentation trainers that they share.

Both ``fit`` on ``((images, masks), unlabelled_images)`` batches and validate on
``(images, masks)`` batches; ``keras_segen.trainers.semi_supervised`` holds the trainers.
"""

import keras
from keras import ops

from keras_segen import losses, metrics
from keras_segen.trainers.adversarial_segmentation import labelled_batch
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


def check_semi_options(warmup_steps, threshold, weights):
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

    def init_common(self, segmenter, loss, self_training_weight, confidence_threshold,
                     warmup_steps, ignore_index):  # fmt: skip
        self.segmenter = segmenter
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

    def self_training(self, logits, confidence, iterations):
        """``(loss, selected fraction)``; the loss counts only after the warm-up."""
        labels = pseudo_labels(logits, confidence, self.confidence_threshold, self.ignore_index)
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
        }
