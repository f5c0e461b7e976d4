"""Segmentation metrics (generation metrics arrive with the generation models)."""

from keras_segen.metrics.segmentation import (
    ConfusionMatrixMetric,
    MeanDice,
    MeanIoU,
    MeanPrecision,
    MeanRecall,
    PixelAccuracy,
    confusion_matrix,
    nan_mean,
    per_class_scores,
    pixel_accuracy,
    predicted_labels,
    segmentation_report,
)

__all__ = [
    "ConfusionMatrixMetric",
    "MeanDice",
    "MeanIoU",
    "MeanPrecision",
    "MeanRecall",
    "PixelAccuracy",
    "confusion_matrix",
    "nan_mean",
    "per_class_scores",
    "pixel_accuracy",
    "predicted_labels",
    "segmentation_report",
]
