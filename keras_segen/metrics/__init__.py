"""Segmentation metrics (confusion-matrix based) and generation metrics (FID, KID, IS, ...)."""

from keras_segen.metrics.generation import (
    FeatureExtractor,
    frechet_distance,
    frechet_distance_from_statistics,
    generation_report,
    inception_classifier,
    inception_extractor,
    inception_score,
    kernel_inception_distance,
    nearest_neighbour_distances,
    novelty_score,
)
from keras_segen.metrics.paired import psnr, ssim
from keras_segen.metrics.segmentation import (
    confusion_counts,
    confusion_matrix,
    nan_mean,
    per_class_scores,
    pixel_accuracy,
    predicted_labels,
    segmentation_report,
)
from keras_segen.metrics.shapes_features import sample_fid, shapes_extractor
from keras_segen.metrics.streaming import (
    ConfusionMatrixMetric,
    MeanDice,
    MeanIoU,
    MeanPrecision,
    MeanRecall,
    PixelAccuracy,
)

__all__ = [
    "FeatureExtractor",
    "sample_fid",
    "shapes_extractor",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "generation_report",
    "inception_classifier",
    "inception_extractor",
    "inception_score",
    "kernel_inception_distance",
    "nearest_neighbour_distances",
    "novelty_score",
    "psnr",
    "ssim",
    "ConfusionMatrixMetric",
    "MeanDice",
    "MeanIoU",
    "MeanPrecision",
    "MeanRecall",
    "PixelAccuracy",
    "confusion_counts",
    "confusion_matrix",
    "nan_mean",
    "per_class_scores",
    "pixel_accuracy",
    "predicted_labels",
    "segmentation_report",
]
