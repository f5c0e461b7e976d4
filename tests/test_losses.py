"""Losses against values worked out by hand."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_segen import losses

LN2 = math.log(2.0)

# Three pixels, two classes. Logits [0, 0] -> p = (1/2, 1/2); [ln 3, 0] -> p = (3/4, 1/4).
LOGITS = np.array([[[[0.0, 0.0], [math.log(3.0), 0.0], [5.0, -5.0]]]], dtype="float32")
LABELS = np.array([[[0, 1, 255]]], dtype="int32")  # the third pixel is ignored

# Probabilities for the overlap losses: pixel 1 is class 0, pixel 2 class 1, pixel 3 ignored.
PROBS = np.array([[[[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]]]], dtype="float32")


def value(x):
    return float(keras.ops.convert_to_numpy(x))


def test_cross_entropy_by_hand():
    # -ln(1/2) and -ln(1/4), averaged over the two counted pixels.
    assert value(losses.sparse_categorical_crossentropy(LABELS, LOGITS)) == pytest.approx(1.5 * LN2)


def test_cross_entropy_accepts_trailing_channel_labels():
    got = losses.sparse_categorical_crossentropy(LABELS[..., None], LOGITS)
    assert value(got) == pytest.approx(1.5 * LN2)


def test_class_weighted_cross_entropy_is_a_weighted_mean():
    got = losses.sparse_categorical_crossentropy(LABELS, LOGITS, class_weights=[1.0, 3.0])
    assert value(got) == pytest.approx((1 * LN2 + 3 * 2 * LN2) / 4)


def test_ignore_index_none_counts_every_pixel():
    labels = np.array([[[0, 1, 0]]])
    got = losses.sparse_categorical_crossentropy(labels, LOGITS, ignore_index=None)
    third = -math.log(1 / (1 + math.exp(-10)))
    assert value(got) == pytest.approx((LN2 + 2 * LN2 + third) / 3, rel=1e-5)


def test_binary_single_channel_cross_entropy():
    # sigmoid(0) = 1/2 for label 1; sigmoid(ln 3) = 3/4, so label 0 has p = 1/4.
    logits = np.array([[[[0.0], [math.log(3.0)]]]], dtype="float32")
    labels = np.array([[[1, 0]]])
    assert value(losses.sparse_categorical_crossentropy(labels, logits)) == pytest.approx(1.5 * LN2)


def test_focal_loss_by_hand():
    # (1 - 1/2)^2 ln 2 and (1 - 1/4)^2 ln 4, averaged.
    expected = (0.25 * LN2 + 0.5625 * 2 * LN2) / 2
    assert value(losses.focal_loss(LABELS, LOGITS, gamma=2.0)) == pytest.approx(expected)
    assert value(losses.focal_loss(LABELS, LOGITS, gamma=0.0)) == pytest.approx(1.5 * LN2)


def test_dice_loss_by_hand():
    # Class 0: TP 0.8, FP 0.4, FN 0.2 -> 1.6 / 2.2. Class 1: TP 0.6, FP 0.2, FN 0.4 -> 1.2 / 1.8.
    got = losses.dice_loss(LABELS, PROBS, smooth=0.0, from_logits=False)
    assert value(got) == pytest.approx(1 - (8 / 11 + 2 / 3) / 2)
    got = losses.dice_loss(LABELS, PROBS, smooth=1.0, from_logits=False)
    assert value(got) == pytest.approx(1 - (2.6 / 3.2 + 2.2 / 2.8) / 2)


def test_jaccard_loss_by_hand():
    # Class 0: 0.8 / (0.8 + 0.4 + 0.2); class 1: 0.6 / (0.6 + 0.2 + 0.4).
    got = losses.jaccard_loss(LABELS, PROBS, smooth=0.0, from_logits=False)
    assert value(got) == pytest.approx(1 - (4 / 7 + 1 / 2) / 2)


def test_tversky_loss_by_hand_and_its_dice_special_case():
    got = losses.tversky_loss(LABELS, PROBS, alpha=0.3, beta=0.7, smooth=0.0, from_logits=False)
    class0 = 0.8 / (0.8 + 0.3 * 0.4 + 0.7 * 0.2)
    class1 = 0.6 / (0.6 + 0.3 * 0.2 + 0.7 * 0.4)
    assert value(got) == pytest.approx(1 - (class0 + class1) / 2)
    half = losses.tversky_loss(LABELS, PROBS, 0.5, 0.5, smooth=0.0, from_logits=False)
    assert value(half) == pytest.approx(1 - (8 / 11 + 2 / 3) / 2)


def test_binary_dice_scores_the_foreground_only():
    probs = np.array([[[[0.8], [0.4]]]], dtype="float32")
    labels = np.array([[[1, 0]]])
    got = losses.dice_loss(labels, probs, smooth=0.0, from_logits=False)
    assert value(got) == pytest.approx(1 - 1.6 / 2.2)


def test_class_absent_everywhere_is_left_out_of_the_mean():
    probs = np.concatenate([PROBS, np.zeros((1, 1, 3, 1), "float32")], axis=-1)
    got = losses.dice_loss(LABELS, probs, smooth=0.0, from_logits=False)
    assert value(got) == pytest.approx(1 - (8 / 11 + 2 / 3) / 2)


def test_ce_dice_is_the_weighted_sum():
    ce = (-math.log(0.8) - math.log(0.6)) / 2
    dice = 1 - (8 / 11 + 2 / 3) / 2
    got = losses.ce_dice_loss(
        LABELS, PROBS, ce_weight=2.0, dice_weight=0.5, smooth=0.0, from_logits=False
    )
    assert value(got) == pytest.approx(2 * ce + 0.5 * dice, rel=1e-5)


def test_perfect_prediction_gives_zero_overlap_losses():
    labels = np.array([[[0, 1]]])
    probs = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], dtype="float32")
    for loss in (losses.dice_loss, losses.jaccard_loss, losses.tversky_loss):
        assert value(loss(labels, probs, from_logits=False)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "cls",
    [
        losses.CrossEntropy,
        losses.FocalLoss,
        losses.DiceLoss,
        losses.JaccardLoss,
        losses.TverskyLoss,
        losses.CEDiceLoss,
    ],
)
def test_keras_loss_classes_match_functions_and_serialise(cls):
    loss = cls(from_logits=False)
    expected = value(cls.function(LABELS, PROBS, from_logits=False))
    assert value(loss(LABELS, PROBS)) == pytest.approx(expected)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is cls and restored.options == {"from_logits": False}
    assert value(restored(LABELS, PROBS)) == pytest.approx(expected)


def test_losses_compute_in_float32_from_float16_logits():
    got = losses.dice_loss(LABELS, LOGITS.astype("float16"))
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    got = losses.CEDiceLoss()(LABELS, LOGITS.astype("float16"))
    assert keras.backend.standardize_dtype(got.dtype) == "float32"


def test_labels_outside_the_classes_are_an_error_not_dropped():
    with pytest.raises(
        ValueError, match=r"values \[7\] outside 0..1 that are not ignore_index=255"
    ):
        losses.sparse_categorical_crossentropy(np.array([[[0, 7, 255]]]), LOGITS)
    # Inside a traced graph the error cannot be raised; the loss becomes NaN instead.
    traced = tf.function(losses.sparse_categorical_crossentropy)
    assert math.isnan(value(traced(tf.constant([[[0, 7, 255]]]), tf.constant(LOGITS))))


def test_mismatched_label_size_is_an_error():
    with pytest.raises(ValueError, match=r"Labels of spatial size \(1, 2\) do not match"):
        losses.dice_loss(np.zeros((1, 1, 2), "int32"), LOGITS)
    with pytest.raises(ValueError, match="one-hot labels are not accepted"):
        losses.dice_loss(np.zeros((1, 1, 3, 2), "int32"), LOGITS)
    with pytest.raises(ValueError, match="class_weights must have one weight per class"):
        losses.sparse_categorical_crossentropy(LABELS, LOGITS, class_weights=[1.0, 2.0, 3.0])


def test_class_weights_array_serialises_as_a_list():
    loss = losses.CrossEntropy(class_weights=np.array([1.0, 3.0]))
    assert loss.get_config()["class_weights"] == [1.0, 3.0]
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert value(restored(LABELS, LOGITS)) == pytest.approx((1 * LN2 + 3 * 2 * LN2) / 4)
