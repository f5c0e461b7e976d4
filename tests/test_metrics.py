"""Segmentation metrics against a confusion matrix counted by hand."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_segen import metrics

LABELS = np.array([[[0, 0, 1, 1], [2, 2, 255, 1]]], dtype="int32")
PREDICTED = np.array([[[0, 1, 1, 1], [2, 0, 2, 0]]], dtype="int32")
# Counted by hand (rows true, columns predicted); the 255 pixel is not counted.
EXPECTED_MATRIX = [[1, 1, 0], [1, 2, 0], [1, 0, 1]]


def one_hot_scores(labels, num_classes=3):
    return np.eye(num_classes, dtype="float32")[labels] * 4.0 - 2.0


def test_confusion_matrix_by_hand():
    matrix = metrics.confusion_matrix(LABELS, PREDICTED, num_classes=3)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(matrix), EXPECTED_MATRIX)


def test_logits_and_probabilities_give_the_same_matrix():
    logits = one_hot_scores(PREDICTED)
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    for scores in (logits, probs):
        matrix = metrics.confusion_matrix(LABELS, scores, num_classes=3)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(matrix), EXPECTED_MATRIX)


def test_report_by_hand():
    report = metrics.segmentation_report(EXPECTED_MATRIX, ["a", "b", "c"])
    assert report["pixel_accuracy"] == pytest.approx(4 / 7)
    assert report["mean_iou"] == pytest.approx((1 / 4 + 2 / 4 + 1 / 2) / 3)
    assert report["mean_dice"] == pytest.approx((2 / 5 + 4 / 6 + 2 / 3) / 3)
    assert report["mean_precision"] == pytest.approx((1 / 3 + 2 / 3 + 1) / 3)
    assert report["mean_recall"] == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)
    assert report["per_class"]["b"] == pytest.approx(
        {"iou": 0.5, "dice": 2 / 3, "precision": 2 / 3, "recall": 2 / 3, "support": 3}
    )


def test_absent_class_is_nan_and_left_out_of_the_means():
    matrix = np.zeros((4, 4))
    matrix[:3, :3] = EXPECTED_MATRIX
    report = metrics.segmentation_report(matrix)
    assert math.isnan(report["per_class"]["3"]["iou"])
    assert report["mean_iou"] == pytest.approx(5 / 12)


@pytest.mark.parametrize(
    "cls, expected",
    [
        (metrics.PixelAccuracy, 4 / 7),
        (metrics.MeanIoU, 5 / 12),
        (metrics.MeanDice, (2 / 5 + 4 / 6 + 2 / 3) / 3),
        (metrics.MeanPrecision, (1 / 3 + 2 / 3 + 1) / 3),
        (metrics.MeanRecall, (1 / 2 + 2 / 3 + 1 / 2) / 3),
    ],
)
def test_streaming_metrics_accumulate_over_batches(cls, expected):
    metric = cls(num_classes=3)
    metric.update_state(LABELS[:, :1], one_hot_scores(PREDICTED[:, :1]))
    metric.update_state(LABELS[:, 1:], one_hot_scores(PREDICTED[:, 1:]))
    assert float(metric.result()) == pytest.approx(expected)
    metric.reset_state()
    assert math.isnan(float(metric.result()))


def test_per_class_metric_and_report_from_the_metric():
    metric = metrics.MeanIoU(num_classes=3, class_id=0)
    metric.update_state(LABELS, PREDICTED)
    assert metric.name == "mean_iou_class_0"
    assert float(metric.result()) == pytest.approx(1 / 4)
    assert metric.report(["a", "b", "c"])["per_class"]["c"]["iou"] == pytest.approx(0.5)


def test_binary_single_channel_scores_are_thresholded():
    labels = np.array([[[0, 1, 1, 0]]])
    logits = np.array([[[[-1.0], [2.0], [-0.5], [0.5]]]], dtype="float32")
    got = keras.ops.convert_to_numpy(metrics.confusion_matrix(labels, logits, num_classes=2))
    np.testing.assert_array_equal(got, [[1, 1], [1, 1]])
    probs = np.array([[[[0.2], [0.9], [0.4], [0.6]]]], dtype="float32")
    got = metrics.confusion_matrix(labels, probs, num_classes=2, from_logits=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), [[1, 1], [1, 1]])


def test_sample_weight_weights_pixels():
    weights = np.array([[[2, 2, 2, 2], [0, 0, 0, 0]]], dtype="float32")
    got = metrics.confusion_matrix(LABELS, PREDICTED, 3, sample_weight=weights)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(got), [[2, 2, 0], [0, 4, 0], [0, 0, 0]]
    )


def test_metric_serialises():
    metric = metrics.MeanDice(num_classes=5, ignore_index=0)
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is metrics.MeanDice
    assert (restored.num_classes, restored.ignore_index) == (5, 0)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        metrics.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match=r"class_id must be in \[0, 3\)"):
        metrics.MeanIoU(num_classes=3, class_id=3)
    with pytest.raises(ValueError, match="Predictions have 4 channels but num_classes=3"):
        metrics.confusion_matrix(LABELS, np.zeros((1, 2, 4, 4), "float32"), 3)
    with pytest.raises(ValueError, match=r"values \[5\] outside 0..2"):
        metrics.confusion_matrix(np.array([[[5]]]), np.array([[[0]]]), 3)
    traced = tf.function(lambda y, p: metrics.confusion_matrix(y, p, 3))
    assert np.isnan(traced(tf.constant([[[5]]]), tf.constant([[[0]]])).numpy()).all()


def test_metrics_in_fit_and_evaluate():
    images = np.zeros((2, 4, 4, 1), "float32")
    masks = np.ones((2, 4, 4), "int32")
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(
        inputs,
        keras.layers.Conv2D(2, 1, bias_initializer=keras.initializers.Constant([0.0, 1.0]))(inputs),
    )
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=[metrics.MeanIoU(2), metrics.PixelAccuracy(2)],
        jit_compile=True,  # the confusion matrix must compile with XLA
    )
    result = model.evaluate(images, masks, verbose=0, return_dict=True)
    # Every pixel predicted class 1, and every label is 1: class 0 is absent everywhere.
    assert result["mean_iou"] == pytest.approx(1.0)
    assert result["pixel_accuracy"] == pytest.approx(1.0)


def test_predicted_labels_outside_the_classes_are_an_error():
    with pytest.raises(ValueError, match=r"Predicted labels contain values \[255\] outside 0..2"):
        metrics.confusion_matrix(LABELS, np.full((1, 2, 4), 255), num_classes=3)


# 4097 * 4097 = 16,785,409 > 2^24 = 16,777,216, and odd: float32 cannot hold it.
BIG_SIDE = 4097
BIG_CELL = BIG_SIDE * BIG_SIDE


def test_one_update_counts_exactly_above_two_to_the_24():
    masks = np.zeros((1, BIG_SIDE, BIG_SIDE), "int32")
    counts, bad = metrics.confusion_counts(masks, masks, num_classes=2)
    assert keras.ops.convert_to_numpy(counts).tolist() == [[BIG_CELL, 0], [0, 0]]
    assert int(bad) == 0


def test_streamed_counts_are_exact_eager_and_under_xla():
    masks = tf.zeros((1, BIG_SIDE, BIG_SIDE), tf.int32)
    eager = metrics.MeanIoU(num_classes=2)
    eager.update_state(masks, masks)
    eager.update_state(masks, masks)
    compiled = metrics.MeanIoU(num_classes=2)
    step = tf.function(compiled.update_state, jit_compile=True)
    step(masks, masks)
    step(masks, masks)
    for metric in (eager, compiled):
        assert metric.counts().tolist() == [[2 * BIG_CELL, 0], [0, 0]]
        assert metric.report()["per_class"]["0"]["support"] == 2 * BIG_CELL
        assert float(metric.result()) == pytest.approx(1.0)


def test_streamed_counts_stay_exact_past_two_to_the_53():
    metric = metrics.PixelAccuracy(num_classes=2)
    # A state of 2^53 + 2^24 - 1 pixels in cell (0, 0): high 2^29, low 2^24 - 1.
    metric.counts_high.assign(np.array([[2**29, 0], [0, 0]], "int32"))
    metric.counts_low.assign(np.array([[2**24 - 1, 0], [0, 0]], "int32"))
    masks = np.zeros((1, BIG_SIDE, BIG_SIDE), "int32")
    metric.update_state(masks, masks)  # the low part carries into the high part
    assert metric.counts()[0, 0] == 2**53 + 2**24 - 1 + BIG_CELL
    assert 0 <= int(keras.ops.convert_to_numpy(metric.counts_low)[0, 0]) < 2**24


def test_fractional_sample_weights_are_refused():
    with pytest.raises(ValueError, match="sample_weight must be whole non-negative numbers"):
        metrics.confusion_counts(LABELS, PREDICTED, 3, sample_weight=np.full((1, 2, 4), 0.5))
