"""Streaming segmentation metrics: Keras ``Metric`` classes over one confusion matrix.

Each cell of the matrix is kept as two int32 parts, ``high * 2^24 + low``, exact up to
2^55 pixels on every backend (float32 would stop counting at 2^24 = 16,777,216, one batch
of eight 2048x1024 frames). Every class reports one score of ``per_class_scores``.
"""

import keras
import numpy as np
from keras import ops

from keras_segen.labels import nan_if_positive
from keras_segen.metrics.segmentation import (
    FLOAT32_EXACT,
    confusion_counts,
    nan_mean,
    per_class_scores,
    pixel_accuracy,
    segmentation_report,
)

COUNT_BASE = FLOAT32_EXACT  # base of the two-part counts: each part stays exact

# The examples below all count the same 1 x 4 image: true 0, 0, 1, 1; predicted 0, 1, 1, 1;
# confusion matrix [[1, 1], [0, 2]].


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Base class: accumulates a confusion matrix; subclasses say which score to report.

    Args:
        num_classes: number of classes (2 for a single-channel binary model).
        ignore_index: label value that is not counted, or ``None``.
        from_logits: whether single-channel scores are logits (threshold 0) or
            probabilities (threshold 0.5); irrelevant for multi-channel arg-max.
        class_id: report the score of this class only instead of the mean over classes.
        name: metric name.

    Example:
        >>> masks = np.array([[[0, 0, 1, 1]]])  # one image of 1 x 4 pixels
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])  # 0, 1, 1, 1
        >>> metric = keras_segen.metrics.MeanIoU(num_classes=2)  # a subclass
        >>> metric.update_state(masks, logits)
        >>> metric.counts().tolist()  # exact int64 counts
        [[1, 1], [0, 2]]
        >>> round(metric.report(["background", "circle"])["mean_dice"], 4)
        0.7333
    """

    score = None

    def __init__(
        self, num_classes, ignore_index=255, from_logits=True, class_id=None, name=None, dtype=None
    ):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}.")
        if class_id is not None and not 0 <= class_id < num_classes:
            raise ValueError(f"class_id must be in [0, {num_classes}); got {class_id!r}.")
        default_name = self.score if class_id is None else f"{self.score}_class_{class_id}"
        super().__init__(name=name or default_name, dtype=dtype)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.from_logits = from_logits
        self.class_id = class_id
        shape = (num_classes, num_classes)
        # Each count is counts_high * 2^24 + counts_low, with 0 <= counts_low < 2^24.
        self.counts_high = self.add_variable(
            shape=shape, initializer="zeros", dtype="int32", name="counts_high"
        )
        self.counts_low = self.add_variable(
            shape=shape, initializer="zeros", dtype="int32", name="counts_low"
        )
        self.uncounted = self.add_variable(
            shape=(), initializer="zeros", dtype="int32", name="uncounted"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the pixels of one batch to the confusion matrix."""
        counts, bad = confusion_counts(
            y_true, y_pred, self.num_classes, self.ignore_index, self.from_logits, sample_weight
        )
        high = ops.floor_divide(counts, COUNT_BASE)
        low = self.counts_low + (counts - high * COUNT_BASE)  # < 2^25: no int32 overflow
        carry = ops.floor_divide(low, COUNT_BASE)
        self.counts_low.assign(low - carry * COUNT_BASE)
        self.counts_high.assign_add(high + carry)
        self.uncounted.assign_add(ops.cast(bad, "int32"))

    @property
    def matrix(self):
        """The counts as a float32 tensor (for scores; ``counts()`` is exact); NaN once
        labels outside the classes were seen inside a traced graph."""
        matrix = ops.cast(self.counts_high, "float32") * float(COUNT_BASE) + ops.cast(
            self.counts_low, "float32"
        )
        return nan_if_positive(matrix, self.uncounted)

    def counts(self):
        """The exact pixel counts so far: int64 NumPy ``(num_classes, num_classes)``."""
        high = ops.convert_to_numpy(self.counts_high).astype(np.int64)
        return high * COUNT_BASE + ops.convert_to_numpy(self.counts_low).astype(np.int64)

    def result(self):
        if self.score == "pixel_accuracy":
            return pixel_accuracy(self.matrix)
        values = per_class_scores(self.matrix)[self.score.replace("mean_", "")]
        return nan_mean(values) if self.class_id is None else values[self.class_id]

    def reset_state(self):
        for variable in (self.counts_high, self.counts_low, self.uncounted):
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def report(self, class_names=None):
        """``segmentation_report`` of everything accumulated so far (exact counts)."""
        if int(ops.convert_to_numpy(self.uncounted)):
            raise ValueError(
                "Labels outside 0..num_classes-1 (not ignore_index) reached this metric "
                "inside a traced graph; its counts are incomplete."
            )
        return segmentation_report(self.counts(), class_names)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "ignore_index": self.ignore_index,
            "from_logits": self.from_logits,
            "class_id": self.class_id,
        }


@keras.saving.register_keras_serializable(package="keras_segen")
class PixelAccuracy(ConfusionMatrixMetric):
    """Streaming pixel accuracy: correct pixels over counted pixels.

    Arguments as for ``ConfusionMatrixMetric``.

    Example:
        >>> metric = keras_segen.metrics.PixelAccuracy(num_classes=2)
        >>> masks = np.array([[[0, 0, 1, 1]]])
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])
        >>> metric.update_state(masks, logits)
        >>> round(float(metric.result()), 4)  # 3 of 4 pixels right
        0.75
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(), metrics=[metric])
    """

    score = "pixel_accuracy"


@keras.saving.register_keras_serializable(package="keras_segen")
class MeanIoU(ConfusionMatrixMetric):
    """Streaming mean intersection over union.

    Arguments as for ``ConfusionMatrixMetric``.

    Example:
        >>> metric = keras_segen.metrics.MeanIoU(num_classes=2)
        >>> masks = np.array([[[0, 0, 1, 1]]])
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])
        >>> metric.update_state(masks, logits)
        >>> round(float(metric.result()), 4)  # (1/2 + 2/3) / 2
        0.5833
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(), metrics=[metric])
    """

    score = "mean_iou"


@keras.saving.register_keras_serializable(package="keras_segen")
class MeanDice(ConfusionMatrixMetric):
    """Streaming mean Dice (F1) score.

    Arguments as for ``ConfusionMatrixMetric``.

    Example:
        >>> metric = keras_segen.metrics.MeanDice(num_classes=2)
        >>> masks = np.array([[[0, 0, 1, 1]]])
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])
        >>> metric.update_state(masks, logits)
        >>> round(float(metric.result()), 4)  # (2/3 + 4/5) / 2
        0.7333
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(), metrics=[metric])
    """

    score = "mean_dice"


@keras.saving.register_keras_serializable(package="keras_segen")
class MeanPrecision(ConfusionMatrixMetric):
    """Streaming mean precision.

    Arguments as for ``ConfusionMatrixMetric``.

    Example:
        >>> metric = keras_segen.metrics.MeanPrecision(num_classes=2)
        >>> masks = np.array([[[0, 0, 1, 1]]])
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])
        >>> metric.update_state(masks, logits)
        >>> round(float(metric.result()), 4)  # (1 + 2/3) / 2
        0.8333
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(), metrics=[metric])
    """

    score = "mean_precision"


@keras.saving.register_keras_serializable(package="keras_segen")
class MeanRecall(ConfusionMatrixMetric):
    """Streaming mean recall.

    Arguments as for ``ConfusionMatrixMetric``.

    Example:
        >>> metric = keras_segen.metrics.MeanRecall(num_classes=2)
        >>> masks = np.array([[[0, 0, 1, 1]]])
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])
        >>> metric.update_state(masks, logits)
        >>> round(float(metric.result()), 4)  # (1/2 + 1) / 2
        0.75
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(), metrics=[metric])
    """

    score = "mean_recall"
