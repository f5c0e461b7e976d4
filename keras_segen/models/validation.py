"""Argument checks shared by the builders: each failure names the builder and the argument."""

import os

SEGMENTATION_ACTIVATIONS = (None, "softmax", "sigmoid")


def check_choice(builder, argument, value, choices):
    """Raises ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{builder}: {argument} must be one of {tuple(choices)}; got {value!r}.")
    return value


def check_int(builder, argument, value, minimum=1):
    """Raises ``ValueError`` unless ``value`` is an int ``>= minimum`` (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{builder}: {argument} must be an integer >= {minimum}; got {value!r}.")
    return value


def check_rate(builder, argument, value):
    """Raises ``ValueError`` unless ``0 <= value < 1``."""
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{builder}: {argument} must be a number in [0, 1); got {value!r}.")
    return float(value)


def check_input_shape(builder, input_shape, stride=1, channels=None, min_size=1):
    """Validates ``(H, W, C)``; fixed H and W must be multiples of ``stride``.

    Args:
        builder: builder name used in the message.
        input_shape: ``(H, W, C)``; H and W may be ``None``.
        stride: the model's total stride.
        channels: the only accepted channel count, or ``None`` for any.
        min_size: smallest accepted fixed H or W.

    Returns:
        The shape as a tuple.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            f"{builder}: input_shape must be (height, width, channels); got {input_shape!r}."
        )
    height, width, depth = input_shape
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(
            f"{builder}: input_shape channels must be a positive integer; got {depth!r}."
        )
    if channels is not None and depth != channels:
        raise ValueError(
            f"{builder}: this backbone needs {channels}-channel input; "
            f"got input_shape={tuple(input_shape)}."
        )
    for axis, size in (("height", height), ("width", width)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"{builder}: input_shape {axis} must be a positive integer or None; got {size!r}."
            )
        if size < min_size:
            raise ValueError(f"{builder}: input_shape {axis} must be >= {min_size}; got {size}.")
        if size % stride:
            lower = max(stride, size - size % stride)
            raise ValueError(
                f"{builder}: input_shape {axis} {size} is not a multiple of the model's total "
                f"stride {stride}; use e.g. {lower} or {lower + stride}, or None."
            )
    return tuple(input_shape)


def check_weights(builder, weights, allowed=(None, "imagenet")):
    """Accepts ``None``, ``"imagenet"`` or the path of an existing weights file."""
    if weights in allowed:
        return weights
    if isinstance(weights, (str, os.PathLike)) and "imagenet" in allowed:
        if not os.path.isfile(weights):
            raise ValueError(f"{builder}: weights file {os.fspath(weights)!r} does not exist.")
        return os.fspath(weights)
    accepted = f"one of {allowed}" + (" or a weights file path" if "imagenet" in allowed else "")
    raise ValueError(f"{builder}: weights must be {accepted}; got {weights!r}.")
