"""Label-map handling shared by the losses and the metrics."""

import numpy as np
from keras import ops


def is_concrete(tensor):
    """Whether ``tensor`` has a value now (eager), rather than inside a traced graph."""
    try:
        np.asarray(tensor)
    except Exception:  # a symbolic tensor inside a traced graph
        return False
    return True


def sparse_labels(y_true, y_pred, ignore_index=255, num_classes=None, what="Labels"):
    """Int32 labels ``(B, H, W)`` and a float32 mask of the pixels that count.

    Args:
        y_true: int labels ``(B, H, W)`` or ``(B, H, W, 1)``.
        y_pred: predictions ``(B, H, W, C)``, only used for the shape check.
        ignore_index: label value to leave out, or ``None``.
        num_classes: number of valid labels (``0 .. num_classes - 1``).
        what: what the labels are, for error messages.

    Returns:
        ``(labels, valid, out_of_range)``: ignored pixels have label 0 and ``valid == 0``;
        ``out_of_range`` counts the pixels whose label is neither a class nor
        ``ignore_index``. Eager inputs with such labels raise ``ValueError`` at once;
        inside a traced graph the callers turn a non-zero count into NaN instead of
        silently dropping those pixels.
    """
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == 4:
        if y_true.shape[-1] != 1:
            raise ValueError(
                f"{what} must be sparse class ids of shape (B, H, W) or (B, H, W, 1); got "
                f"shape {tuple(y_true.shape)} (one-hot labels are not accepted)."
            )
        y_true = ops.squeeze(y_true, axis=-1)
    if len(y_true.shape) != 3:
        raise ValueError(f"{what} must have shape (B, H, W); got {tuple(y_true.shape)}.")
    label_hw, pred_hw = tuple(y_true.shape[1:3]), tuple(y_pred.shape[1:3])
    if None not in label_hw + pred_hw and label_hw != pred_hw:
        raise ValueError(
            f"{what} of spatial size {label_hw} do not match predictions of size {pred_hw}; "
            "resize the masks (nearest neighbour) or crop them to the model's output."
        )
    labels = ops.cast(y_true, "int32")
    valid = ops.ones_like(labels, dtype="bool")
    if ignore_index is not None:
        valid = ops.not_equal(labels, ignore_index)
    in_range = ops.logical_and(labels >= 0, labels < num_classes)
    out_of_range = ops.sum(ops.cast(ops.logical_and(valid, ops.logical_not(in_range)), "int32"))
    if is_concrete(out_of_range) and int(out_of_range) > 0:
        values = np.unique(np.asarray(labels)[np.asarray(valid) & ~np.asarray(in_range)])
        raise ValueError(
            f"{what} contain values {values[:10].tolist()} outside 0..{num_classes - 1} "
            f"that are not ignore_index={ignore_index}."
        )
    valid = ops.logical_and(valid, in_range)
    labels = ops.where(valid, labels, 0)
    return labels, ops.cast(valid, "float32"), out_of_range


def nan_if_positive(value, count):
    """``value``, or NaN when ``count > 0`` (see ``sparse_labels``)."""
    return ops.where(count > 0, float("nan"), value)
