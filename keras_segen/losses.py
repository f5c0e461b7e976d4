"""Segmentation losses on per-pixel scores, as functions and as Keras ``Loss`` classes.

Every loss takes sparse int labels ``(B, H, W)`` or ``(B, H, W, 1)`` and predictions
``(B, H, W, C)``: logits by default, probabilities with ``from_logits=False``. A single
channel (``C == 1``) means binary segmentation with a sigmoid. Pixels labelled
``ignore_index`` (255 by default) take no part. Everything is computed in float32, so the
losses are safe under a ``mixed_float16`` policy.
"""

import keras
from keras import ops

from keras_segen.labels import nan_if_positive, sparse_labels

_EPSILON = 1e-7


def replicas_in_sync():
    """Replicas whose gradients ``tf.distribute`` sums: that strategy's count, else 1.

    Under JAX's ``keras.distribution.DataParallel`` a step sees the global batch, so a
    batch-mean loss is already the global mean.

    Example:
        >>> keras_segen.losses.replicas_in_sync()  # no tf.distribute strategy in scope
        1
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def _log_probabilities(y_pred, from_logits):
    """Float32 per-class log-probabilities ``(B, H, W, K)``; ``K = 2`` for a single channel."""
    y_pred = ops.cast(y_pred, "float32")
    if not from_logits:
        return ops.log(ops.clip(_probabilities(y_pred, from_logits=False), _EPSILON, 1.0))
    if y_pred.shape[-1] == 1:
        return ops.concatenate([ops.log_sigmoid(-y_pred), ops.log_sigmoid(y_pred)], axis=-1)
    return ops.log_softmax(y_pred, axis=-1)


def _probabilities(y_pred, from_logits):
    """Float32 per-class probabilities ``(B, H, W, K)``; ``K = 2`` for a single channel."""
    y_pred = ops.cast(y_pred, "float32")
    if from_logits:
        return ops.exp(_log_probabilities(y_pred, from_logits=True))
    if y_pred.shape[-1] == 1:
        return ops.concatenate([1.0 - y_pred, y_pred], axis=-1)
    return y_pred


def _prepare(y_true, y_pred, from_logits, ignore_index):
    if len(y_pred.shape) != 4:
        raise ValueError(f"Predictions must have shape (B, H, W, C); got {tuple(y_pred.shape)}.")
    log_probs = _log_probabilities(y_pred, from_logits)
    num_classes = log_probs.shape[-1]
    labels, valid, out_of_range = sparse_labels(y_true, y_pred, ignore_index, num_classes)
    one_hot = ops.one_hot(labels, num_classes, dtype="float32")
    return log_probs, one_hot, labels, valid, out_of_range


def _pixel_weights(labels, valid, class_weights, num_classes):
    if class_weights is None:
        return valid
    class_weights = ops.convert_to_tensor(class_weights, dtype="float32")
    if class_weights.shape != (num_classes,):
        raise ValueError(
            f"class_weights must have one weight per class ({num_classes}); "
            f"got shape {tuple(class_weights.shape)}."
        )
    return ops.take(class_weights, labels) * valid


def _weighted_mean(values, weights):
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), _EPSILON)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits=True, ignore_index=255, class_weights=None
):
    """Pixel-wise cross-entropy, averaged over the non-ignored pixels.

    With ``class_weights`` (one per class) each pixel is weighted by its label's weight
    and the result is the weighted mean ``sum(w * ce) / sum(w)``.

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.sparse_categorical_crossentropy
        >>> round(float(loss(masks, probabilities, from_logits=False)), 4)  # -(ln .8 + ln .6) / 2
        0.367
        >>> round(float(loss([[[0, 255]]], probabilities, from_logits=False)), 4)  # -ln .8
        0.2231
    """
    log_probs, one_hot, labels, valid, bad = _prepare(y_true, y_pred, from_logits, ignore_index)
    cross_entropy = -ops.sum(one_hot * log_probs, axis=-1)
    weights = _pixel_weights(labels, valid, class_weights, log_probs.shape[-1])
    return nan_if_positive(_weighted_mean(cross_entropy, weights), bad)


def focal_loss(y_true, y_pred, gamma=2.0, from_logits=True, ignore_index=255, class_weights=None):
    """Focal loss ``-(1 - p_t)^gamma log(p_t)`` (Lin et al., ICCV 2017), multi-class.

    ``class_weights`` plays the role of the paper's alpha; ``gamma=0`` gives cross-entropy.

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.focal_loss(masks, probabilities, 2.0, from_logits=False)
        >>> round(float(loss), 4)  # -(0.2**2 * ln 0.8 + 0.4**2 * ln 0.6) / 2
        0.0453
    """
    log_probs, one_hot, labels, valid, bad = _prepare(y_true, y_pred, from_logits, ignore_index)
    log_p_true = ops.sum(one_hot * log_probs, axis=-1)
    focal = -ops.power(1.0 - ops.exp(log_p_true), gamma) * log_p_true
    weights = _pixel_weights(labels, valid, class_weights, log_probs.shape[-1])
    return nan_if_positive(_weighted_mean(focal, weights), bad)


def _overlaps(y_true, y_pred, from_logits, ignore_index):
    """Per-class soft true positives, false positives and false negatives over the batch.

    For a single-channel (binary) model only the foreground class is returned.
    """
    _, one_hot, _, valid, bad = _prepare(y_true, y_pred, from_logits, ignore_index)
    valid = ops.expand_dims(valid, -1)
    probs = _probabilities(y_pred, from_logits) * valid
    one_hot = one_hot * valid
    axes = (0, 1, 2)
    true_positive = ops.sum(probs * one_hot, axis=axes)
    false_positive = ops.sum(probs, axis=axes) - true_positive
    false_negative = ops.sum(one_hot, axis=axes) - true_positive
    if y_pred.shape[-1] == 1:
        true_positive, false_positive, false_negative = (
            t[1:] for t in (true_positive, false_positive, false_negative)
        )
    return true_positive, false_positive, false_negative, bad


def tversky_loss(
    y_true, y_pred, alpha=0.3, beta=0.7, smooth=1.0, from_logits=True, ignore_index=255
):
    """Tversky loss (Salehi et al. 2017): ``1 - mean_c (TP + s) / (TP + a FP + b FN + s)``.

    ``alpha`` weighs false positives and ``beta`` false negatives (the paper's best:
    0.3 and 0.7); ``alpha = beta = 0.5`` is the Dice loss. Soft counts are summed over the
    whole batch; classes absent from both labels and predictions are left out of the mean.

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.tversky_loss(masks, probabilities, from_logits=False)
        >>> round(float(loss), 4)  # 1 - (1.8 / 2.06 + 1.6 / 1.94) / 2
        0.1507
    """
    tp, fp, fn, bad = _overlaps(y_true, y_pred, from_logits, ignore_index)
    denominator = tp + alpha * fp + beta * fn + smooth
    present = ops.cast(tp + fp + fn > 0, "float32")
    index = (tp + smooth) / ops.maximum(denominator, _EPSILON)
    mean_index = ops.sum(index * present) / ops.maximum(ops.sum(present), 1.0)
    return nan_if_positive(1.0 - mean_index, bad)


def dice_loss(y_true, y_pred, smooth=1.0, from_logits=True, ignore_index=255):
    """Soft Dice loss ``1 - mean_c (2 TP + s) / (2 TP + FP + FN + s)`` (Milletari et al. 2016).

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.dice_loss(masks, probabilities, from_logits=False)
        >>> round(float(loss), 4)  # 1 - (2.6 / 3.2 + 2.2 / 2.8) / 2
        0.2009
    """
    return tversky_loss(y_true, y_pred, 0.5, 0.5, smooth / 2.0, from_logits, ignore_index)


def jaccard_loss(y_true, y_pred, smooth=1.0, from_logits=True, ignore_index=255):
    """Soft Jaccard (IoU) loss ``1 - mean_c (TP + s) / (TP + FP + FN + s)``.

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.jaccard_loss(masks, probabilities, from_logits=False)
        >>> round(float(loss), 4)  # 1 - (1.8 / 2.4 + 1.6 / 2.2) / 2
        0.2614
    """
    return tversky_loss(y_true, y_pred, 1.0, 1.0, smooth, from_logits, ignore_index)


def ce_dice_loss(
    y_true,
    y_pred,
    ce_weight=1.0,
    dice_weight=1.0,
    smooth=1.0,
    from_logits=True,
    ignore_index=255,
    class_weights=None,
):
    """``ce_weight * cross-entropy + dice_weight * Dice loss``.

    Example:
        >>> masks = np.array([[[0, 1]]])  # one 1 x 2 image: class 0, then class 1
        >>> probabilities = np.array([[[[0.8, 0.2], [0.4, 0.6]]]])  # what softmax gave
        >>> loss = keras_segen.losses.ce_dice_loss(
        ...     masks, probabilities, dice_weight=0.5, from_logits=False)
        >>> round(float(loss), 4)  # 0.367 + 0.5 * 0.2009
        0.4674
    """
    ce = sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_index, class_weights)
    dice = dice_loss(y_true, y_pred, smooth, from_logits, ignore_index)
    return ce_weight * ce + dice_weight * dice


class SegmentationLoss(keras.losses.Loss):
    """Base of the Keras ``Loss`` classes below: ``call`` applies the class's ``function``
    with the keyword options given to the constructor; the batch reduction is the
    function's.

    Example:
        >>> loss = keras_segen.losses.DiceLoss(smooth=0.5)
        >>> isinstance(loss, keras_segen.losses.SegmentationLoss), loss.get_config()["smooth"]
        (True, 0.5)
    """

    function = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None, **options):
        super().__init__(
            name=name or self.__class__.__name__.lower(), reduction=reduction, dtype=dtype
        )
        # Plain Python values, so that get_config stays JSON-serialisable.
        self.options = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in options.items()}

    def call(self, y_true, y_pred):
        return type(self).function(y_true, y_pred, **self.options)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The batch's loss; under a ``tf.distribute`` strategy divided by its replicas, as
        Keras' own losses are, because the replicas' gradients are summed."""
        loss = super().__call__(y_true, y_pred, sample_weight)
        replicas = replicas_in_sync()
        if replicas == 1 or sample_weight is not None:  # Keras divides weighted values itself
            return loss
        return loss / replicas

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.options}


@keras.saving.register_keras_serializable(package="keras_segen")
class CrossEntropy(SegmentationLoss):
    """Pixel-wise cross-entropy: the Keras ``Loss`` form of ``sparse_categorical_crossentropy``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.CrossEntropy()
        >>> expected = keras_segen.losses.sparse_categorical_crossentropy(masks, logits)
        >>> bool(np.isclose(loss(masks, logits), expected))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CrossEntropy())
    """

    function = staticmethod(sparse_categorical_crossentropy)


@keras.saving.register_keras_serializable(package="keras_segen")
class FocalLoss(SegmentationLoss):
    """Focal loss of Lin et al. (``gamma``, ``alpha``): the Keras ``Loss`` form of ``focal_loss``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.FocalLoss()
        >>> bool(np.isclose(loss(masks, logits), keras_segen.losses.focal_loss(masks, logits)))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.FocalLoss())
    """

    function = staticmethod(focal_loss)


@keras.saving.register_keras_serializable(package="keras_segen")
class DiceLoss(SegmentationLoss):
    """Soft Dice loss: the Keras ``Loss`` form of ``dice_loss``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.DiceLoss()
        >>> bool(np.isclose(loss(masks, logits), keras_segen.losses.dice_loss(masks, logits)))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.DiceLoss())
    """

    function = staticmethod(dice_loss)


@keras.saving.register_keras_serializable(package="keras_segen")
class JaccardLoss(SegmentationLoss):
    """Soft Jaccard (IoU) loss: the Keras ``Loss`` form of ``jaccard_loss``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.JaccardLoss()
        >>> bool(np.isclose(loss(masks, logits), keras_segen.losses.jaccard_loss(masks, logits)))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.JaccardLoss())
    """

    function = staticmethod(jaccard_loss)


@keras.saving.register_keras_serializable(package="keras_segen")
class TverskyLoss(SegmentationLoss):
    """Tversky loss: the Keras ``Loss`` form of ``tversky_loss``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.TverskyLoss()
        >>> bool(np.isclose(loss(masks, logits), keras_segen.losses.tversky_loss(masks, logits)))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.TverskyLoss())
    """

    function = staticmethod(tversky_loss)


@keras.saving.register_keras_serializable(package="keras_segen")
class CEDiceLoss(SegmentationLoss):
    """Cross-entropy plus Dice loss: the Keras ``Loss`` form of ``ce_dice_loss``.

    Options are the function's keyword arguments.

    Example:
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> loss = keras_segen.losses.CEDiceLoss()
        >>> bool(np.isclose(loss(masks, logits), keras_segen.losses.ce_dice_loss(masks, logits)))
        True
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
        >>> model.compile("adam", keras_segen.losses.CEDiceLoss())
    """

    function = staticmethod(ce_dice_loss)


SEGMENTATION_LOSSES = {
    "ce": CrossEntropy,
    "ce_dice": CEDiceLoss,
    "dice": DiceLoss,
    "focal": FocalLoss,
    "jaccard": JaccardLoss,
    "tversky": TverskyLoss,
}


def segmentation_loss(name, ignore_index=255):
    """The Keras loss registered as ``name`` in ``SEGMENTATION_LOSSES``, honouring ``ignore_index``.

    Example:
        >>> loss = keras_segen.losses.segmentation_loss("ce_dice", ignore_index=255)
        >>> type(loss).__name__, sorted(keras_segen.losses.SEGMENTATION_LOSSES)
        ('CEDiceLoss', ['ce', 'ce_dice', 'dice', 'focal', 'jaccard', 'tversky'])
    """
    if name not in SEGMENTATION_LOSSES:
        raise ValueError(f"loss must be one of {tuple(SEGMENTATION_LOSSES)}; got {name!r}.")
    return SEGMENTATION_LOSSES[name](ignore_index=ignore_index)


def batch_mean(loss, y_true, y_pred):
    """``loss(y_true, y_pred)`` in float32, not divided by the ``tf.distribute`` replicas.

    For custom train steps that divide the losses they differentiate themselves
    (``keras_segen.trainers.backend.minimize``) and track per-replica means.

    Example:
        >>> loss = keras_segen.losses.CrossEntropy()
        >>> masks, logits = [[[0, 1]]], np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
        >>> bool(np.isclose(keras_segen.losses.batch_mean(loss, masks, logits),
        ...                 loss(masks, logits)))  # the same without a strategy
        True
    """
    return ops.cast(loss(y_true, y_pred), "float32") * replicas_in_sync()
