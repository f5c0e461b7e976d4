"""Streaming segmentation metrics, all derived from one confusion matrix.

Rows of the matrix are true classes and columns predicted classes. Predictions may be
scores ``(B, H, W, C)`` (logits or probabilities: the arg-max is the same; a single
channel is thresholded) or int label maps ``(B, H, W)``. Pixels labelled ``ignore_index``
are not counted. A class that never occurs in labels or predictions has an undefined
score (NaN) and is left out of the means.

Counts are exact integers: one update counts in int32 (exact up to 2^31 - 1 pixels per
cell, a batch of 1024 full Cityscapes frames); the streaming metrics built on these
functions are in ``keras_segen.metrics.streaming``.
"""

import keras
import numpy as np
from keras import ops

from keras_segen.labels import is_concrete, nan_if_positive, sparse_labels

FLOAT32_EXACT = 2**24  # float32 represents every integer up to here


def predicted_labels(y_pred, from_logits=True):
    """Int32 ``(B, H, W)`` class map from scores, or ``y_pred`` itself if already a map.

    Example:
        >>> logits = np.array([[[[2.0, 0.5, 0.1], [0.0, 0.0, 3.0]]]])  # one image of 1 x 2 pixels
        >>> keras.ops.convert_to_numpy(keras_segen.metrics.predicted_labels(logits)).tolist()
        [[[0, 2]]]
        >>> binary = keras_segen.metrics.predicted_labels(np.array([[[[-1.0], [2.0]]]]))  # > 0
        >>> keras.ops.convert_to_numpy(binary).tolist()
        [[[0, 1]]]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_pred.shape) == 3:
        return ops.cast(y_pred, "int32")
    if len(y_pred.shape) != 4:
        raise ValueError(
            "Predictions must be (B, H, W, C) scores or (B, H, W) labels; "
            f"got {tuple(y_pred.shape)}."
        )
    if y_pred.shape[-1] == 1:
        threshold = 0.0 if from_logits else 0.5
        return ops.cast(y_pred[..., 0] > threshold, "int32")
    return ops.cast(ops.argmax(y_pred, axis=-1), "int32")


def _pixel_weights(sample_weight, valid):
    """int32 weights of the counted pixels and the number of unusable weights."""
    if sample_weight is None:
        return ops.cast(valid, "int32"), 0
    weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
    while len(weight.shape) < len(valid.shape):
        weight = ops.expand_dims(weight, -1)
    weight = ops.broadcast_to(weight, ops.shape(valid))
    whole = ops.logical_and(ops.equal(weight, ops.round(weight)), weight >= 0)
    bad = ops.sum(ops.cast(ops.logical_not(whole), "int32"))
    if is_concrete(bad) and int(bad) > 0:
        raise ValueError(
            "sample_weight must be whole non-negative numbers (e.g. a 0/1 mask): the "
            "confusion matrix counts pixels exactly."
        )
    return ops.cast(ops.round(weight), "int32") * ops.cast(valid, "int32"), bad


def confusion_counts(y_true, y_pred, num_classes, ignore_index=255, from_logits=True,
                     sample_weight=None):  # fmt: skip
    """``(counts, bad)``: int32 ``(num_classes, num_classes)`` pixel counts of one update
    (rows true, columns predicted) and the number of pixels that could not be counted
    (labels outside the classes, unusable weights; eager inputs raise instead).

    Example:
        >>> masks = np.zeros((1, 4097, 4097), "int32")  # 16,785,409 pixels, all class 0
        >>> counts, bad = keras_segen.metrics.confusion_counts(masks, masks, num_classes=2)
        >>> keras.ops.convert_to_numpy(counts).tolist(), int(bad)  # exact above 2^24
        ([[16785409, 0], [0, 0]], 0)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    predicted = predicted_labels(y_pred, from_logits)
    if len(y_pred.shape) == 4 and y_pred.shape[-1] not in (1, num_classes):
        raise ValueError(
            f"Predictions have {y_pred.shape[-1]} channels but num_classes={num_classes}."
        )
    pixels = int(np.prod([d for d in predicted.shape if d is not None], dtype=np.int64))
    if pixels >= 2**31:
        raise ValueError(f"One update of {pixels} pixels is over 2^31; use smaller batches.")
    predicted, _, bad_predictions = sparse_labels(
        predicted, predicted[..., None], None, num_classes, what="Predicted labels"
    )
    labels, valid, bad_labels = sparse_labels(
        y_true, predicted[..., None], ignore_index, num_classes
    )
    weights, bad_weights = _pixel_weights(sample_weight, valid)
    pairs = ops.reshape(labels * num_classes + predicted, (-1,))
    heaviest = None if sample_weight is None else weights  # 0/1 weights need no look
    counts = _count(ops.reshape(weights, (-1,)), pairs, num_classes * num_classes, heaviest)
    counts = ops.reshape(counts, (num_classes, num_classes))
    return counts, bad_labels + bad_predictions + bad_weights


def _count(weights, ids, num_segments, heaviest=None):
    """Exact int32 sums of ``weights`` per id (``segment_sum``: TensorFlow's ``bincount``
    does not compile with XLA); ``heaviest`` holds the weights when they may exceed 1."""
    if keras.backend.backend() != "torch":
        return ops.cast(ops.segment_sum(weights, ids, num_segments=num_segments), "int32")
    # Keras' torch segment_sum adds in float32, exact only up to 2^24: sum chunks small
    # enough to stay below that, then add the chunk sums in int32.
    size = int(ids.shape[0])
    largest = 1
    if heaviest is not None and size:
        largest = max(1, int(ops.convert_to_numpy(ops.max(heaviest))))
    chunk = max(1, FLOAT32_EXACT // largest)
    chunks = max(1, -(-size // chunk))
    chunk_ids = ops.floor_divide(ops.arange(size, dtype="int32"), chunk)
    sums = ops.segment_sum(weights, chunk_ids * num_segments + ids, chunks * num_segments)
    return ops.sum(ops.reshape(ops.cast(sums, "int32"), (chunks, num_segments)), axis=0)


def confusion_matrix(
    y_true, y_pred, num_classes, ignore_index=255, from_logits=True, sample_weight=None
):
    """``(num_classes, num_classes)`` float32 pixel counts; rows true, columns predicted.

    NaN inside a traced graph when labels outside the classes reach it (eager inputs
    raise). Counts above 2^24 are rounded by float32: use ``confusion_counts`` or the
    streaming metrics for exact counts.

    Example:
        >>> masks = np.array([[[0, 0, 1, 1]]])  # one image of 1 x 4 pixels
        >>> logits = np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]]])  # 0, 1, 1, 1
        >>> matrix = keras_segen.metrics.confusion_matrix(masks, logits, num_classes=2)
        >>> keras.ops.convert_to_numpy(matrix).tolist()  # one class-0 pixel predicted as 1
        [[1.0, 1.0], [0.0, 2.0]]
    """
    counts, bad = confusion_counts(
        y_true, y_pred, num_classes, ignore_index, from_logits, sample_weight
    )
    return nan_if_positive(ops.cast(counts, "float32"), bad)


def _ratio(numerator, denominator):
    return ops.where(denominator > 0, numerator / ops.maximum(denominator, 1e-12), float("nan"))


def per_class_scores(matrix):
    """Per-class ``iou``, ``dice``, ``precision`` and ``recall`` vectors from a confusion matrix.

    Example:
        >>> matrix = np.array([[1.0, 1.0], [0.0, 2.0]])  # rows: true, columns: predicted
        >>> scores = keras_segen.metrics.per_class_scores(matrix)
        >>> {key: np.asarray(v).astype(float).round(4).tolist() for key, v in scores.items()}
        {'iou': [0.5, 0.6667], 'dice': [0.6667, 0.8],
         'precision': [1.0, 0.6667], 'recall': [0.5, 1.0]}
    """
    matrix = ops.convert_to_tensor(matrix, dtype="float32")
    true_positive = ops.diagonal(matrix)
    predicted = ops.sum(matrix, axis=0)
    actual = ops.sum(matrix, axis=1)
    return {
        "iou": _ratio(true_positive, actual + predicted - true_positive),
        "dice": _ratio(2.0 * true_positive, actual + predicted),
        "precision": _ratio(true_positive, predicted),
        "recall": _ratio(true_positive, actual),
    }


def nan_mean(values):
    """Mean of the non-NaN entries (NaN if there are none).

    Example:
        >>> float(keras_segen.metrics.nan_mean(keras.ops.array([0.5, float("nan"), 1.0])))
        0.75
    """
    defined = ops.logical_not(ops.isnan(values))
    total = ops.sum(ops.where(defined, values, 0.0))
    count = ops.sum(ops.cast(defined, "float32"))
    return ops.where(count > 0, total / ops.maximum(count, 1.0), float("nan"))


def pixel_accuracy(matrix):
    """Fraction of counted pixels whose class is right.

    Example:
        >>> matrix = np.array([[1.0, 1.0], [0.0, 2.0]])  # rows: true, columns: predicted
        >>> float(keras_segen.metrics.pixel_accuracy(matrix))  # (1 + 2) / 4
        0.75
    """
    matrix = ops.convert_to_tensor(matrix, dtype="float32")
    return _ratio(ops.sum(ops.diagonal(matrix)), ops.sum(matrix))


def segmentation_report(matrix, class_names=None):
    """All scores of a confusion matrix as a plain dict (Python floats, NaN if undefined).

    Returns:
        ``{"pixel_accuracy", "mean_iou", "mean_dice", "mean_precision", "mean_recall",
        "per_class": {name: {"iou", "dice", "precision", "recall", "support"}}}``.

    Example:
        >>> matrix = np.array([[1.0, 1.0], [0.0, 2.0]])  # rows: true, columns: predicted
        >>> report = keras_segen.metrics.segmentation_report(matrix, ["background", "circle"])
        >>> round(report["mean_iou"], 4)  # (1/2 + 2/3) / 2
        0.5833
        >>> {key: round(value, 4) for key, value in report["per_class"]["circle"].items()}
        {'iou': 0.6667, 'dice': 0.8, 'precision': 0.6667, 'recall': 1.0, 'support': 2}
    """
    matrix = np.asarray(matrix, dtype="float64")
    num_classes = matrix.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"class_names has {len(names)} names for {num_classes} classes.")
    scores = {key: np.asarray(value) for key, value in per_class_scores(matrix).items()}
    report = {"pixel_accuracy": float(pixel_accuracy(matrix))}
    for key, values in scores.items():
        report[f"mean_{key}"] = float(nan_mean(values))
    report["per_class"] = {
        name: {**{key: float(scores[key][i]) for key in scores}, "support": int(matrix[i].sum())}
        for i, name in enumerate(names)
    }
    return report
