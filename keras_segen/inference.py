"""Whole-image segmentation at the image's own size: sliding-window tiles or one resize.

A camera frame is usually far larger than the input a model was trained at. ``"tile"``
cuts the frame (optionally rescaled by ``scale``) into overlapping tiles of the model's
input size, runs them in batches and blends their logits with a weight that falls
linearly from the tile centre to its border, so seams between tiles do not show; the
logits come back at the frame's size. ``"resize"`` runs the frame once at the model size
and resizes the logits (bilinear) back. ``export/runner.py`` does the same in NumPy.
"""

import keras
import numpy as np

MODES = ("auto", "tile", "resize")


def predict_batch(model, inputs):
    """``model``'s outputs on one batch in inference mode, as NumPy arrays.

    On JAX, Keras' compiled ``predict_on_batch``: one XLA program per input shape, where
    calling the model eagerly compiles each operation on its own (seconds on a small model,
    and no fusion on a GPU). Elsewhere, and under a ``keras.distribution`` (whose batches
    must split over its devices), the model is called eagerly.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=4, depth=2)
        >>> logits = keras_segen.inference.predict_batch(model, np.zeros((2, 32, 32, 3)))
        >>> type(logits).__name__, logits.shape
        ('ndarray', (2, 32, 32, 4))
    """
    if keras.backend.backend() == "jax" and keras.distribution.distribution() is None:
        return model.predict_on_batch(keras.tree.map_structure(np.asarray, inputs))
    outputs = model(inputs, training=False)
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def tile_starts(length, tile, stride):
    """Start offsets of tiles of ``tile`` pixels covering ``length`` (the last one flush).

    Example:
        >>> keras_segen.inference.tile_starts(10, 4, 3)
        [0, 3, 6]
        >>> keras_segen.inference.tile_starts(3, 4, 3)  # shorter than a tile: padded
        [0]
    """
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def tile_weight(height, width):
    """Blending weight of a tile: 1 at the centre, falling linearly to ``1 / size`` at
    the border (never 0, so every pixel of the frame has weight).

    Example:
        >>> keras_segen.inference.tile_weight(1, 4)[0].tolist()
        [0.25, 0.75, 0.75, 0.25]
    """

    def ramp(size):
        centres = (np.arange(size) + 0.5) / size
        return 2.0 * np.minimum(centres, 1.0 - centres)

    return np.outer(ramp(height), ramp(width)).astype(np.float32)


def sliding_window(image, tile_size, predict, overlap=0.5, batch_size=8):
    """Logits ``(H, W, K)`` of an ``(H, W, C)`` float image from overlapping tiles.

    Args:
        image: the image, preprocessed (float, any size); smaller than a tile in a
            dimension, it is padded with its edge values and the logits cropped back.
        tile_size: ``(height, width)`` of the model input.
        predict: ``(N, th, tw, C) -> (N, th, tw, K)`` logits, e.g. ``model.predict_on_batch``.
        overlap: fraction of a tile shared with its neighbour, in [0, 1).
        batch_size: tiles per ``predict`` call.

    Example:
        >>> image = np.random.default_rng(0).random((50, 70, 3)).astype("float32")
        >>> identity = lambda tiles: tiles  # a "model" whose logits are its input
        >>> logits = keras_segen.inference.sliding_window(image, (32, 32), identity)
        >>> logits.shape, bool(np.allclose(logits, image, atol=1e-6))  # blending is exact
        ((50, 70, 3), True)
    """
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1); got {overlap!r}.")
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    tile_h, tile_w = tile_size
    padded = np.pad(
        image, ((0, max(tile_h - height, 0)), (0, max(tile_w - width, 0)), (0, 0)), mode="edge"
    )
    stride_h = max(1, int(round(tile_h * (1 - overlap))))
    stride_w = max(1, int(round(tile_w * (1 - overlap))))
    corners = [
        (y, x)
        for y in tile_starts(padded.shape[0], tile_h, stride_h)
        for x in tile_starts(padded.shape[1], tile_w, stride_w)
    ]
    weight = tile_weight(tile_h, tile_w)[..., None]
    total = weights = None
    for first in range(0, len(corners), batch_size):
        batch = corners[first : first + batch_size]
        tiles = np.stack([padded[y : y + tile_h, x : x + tile_w] for y, x in batch])
        logits = np.asarray(keras.ops.convert_to_numpy(predict(tiles)), np.float32)
        if total is None:
            total = np.zeros((*padded.shape[:2], logits.shape[-1]), np.float32)
            weights = np.zeros((*padded.shape[:2], 1), np.float32)
        for (y, x), tile_logits in zip(batch, logits):
            total[y : y + tile_h, x : x + tile_w] += tile_logits * weight
            weights[y : y + tile_h, x : x + tile_w] += weight
    return (total / weights)[:height, :width]


def _resize(array, size):
    """Bilinear (half-pixel centres) resize of ``(H, W, C)`` floats."""
    return keras.ops.convert_to_numpy(
        keras.ops.image.resize(np.asarray(array, np.float32)[None], size, antialias=False)
    )[0]


def uses_tiles(image_size, input_size, mode="auto"):
    """Whether ``segment_image`` tiles an image of ``image_size`` (after ``scale``).

    Example:
        >>> keras_segen.inference.uses_tiles((100, 180), (32, 32))
        True
    """
    larger = image_size[0] > input_size[0] or image_size[1] > input_size[1]
    return mode == "tile" or (mode == "auto" and larger)


def segment_image(model, image, input_size, mode="auto", overlap=0.5, scale=1.0, batch_size=8):
    """Logits ``(H, W, K)`` of one image at its own size.

    Args:
        model: a segmentation model (logits out).
        image: ``uint8 (H, W, 3)`` (or floats in [0, 1]).
        input_size: ``(height, width)`` the model was trained at.
        mode: ``"tile"``, ``"resize"``, or ``"auto"``: tiles when the (scaled) image is
            larger than ``input_size`` in either dimension, else one resize.
        overlap: tile overlap, in [0, 1).
        scale: resize factor applied before tiling, for a model trained on downscaled
            frames (e.g. 0.5 for Cityscapes trained at 512x1024); the logits come back
            at the original size.
        batch_size: tiles per batch.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=4, depth=2)
        >>> frame = np.zeros((100, 180, 3), np.uint8)  # much larger than the model input
        >>> keras_segen.inference.segment_image(model, frame, (32, 32)).shape
        (100, 180, 4)
        >>> keras_segen.inference.segment_image(model, frame, (32, 32), mode="resize").shape
        (100, 180, 4)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale!r}.")
    image = np.asarray(image)
    pixels = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image
    pixels = np.clip(pixels.astype(np.float32), 0.0, 1.0)
    height, width = image.shape[:2]
    scaled = (max(1, round(height * scale)), max(1, round(width * scale)))
    if scale != 1.0:
        pixels = np.clip(_resize(pixels, scaled), 0.0, 1.0)
    if uses_tiles(scaled, input_size, mode):
        logits = sliding_window(pixels, input_size, model.predict_on_batch, overlap, batch_size)
    else:
        resized = np.clip(_resize(pixels, input_size), 0.0, 1.0)
        logits = keras.ops.convert_to_numpy(model.predict_on_batch(resized[None]))[0]
    if logits.shape[:2] != (height, width):
        logits = _resize(logits, (height, width))
    return logits
