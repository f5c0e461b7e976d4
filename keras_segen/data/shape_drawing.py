"""The embedded dataset: procedurally drawn circles, rectangles and triangles.

Each image is a textured background with 1-4 shapes of random size, colour, texture and
position that may overlap: a later shape hides what it covers, in the mask too. The
classes are background (0), circle (1), rectangle (2) and triangle (3); colours are drawn
independently of the class, so a model has to learn the geometry. Everything is generated
with NumPy from ``(seed, index)``, so the same seed always gives the same examples.
"""

import numpy as np

CLASS_NAMES = ("background", "circle", "rectangle", "triangle")
# With colour_by_class: a fixed base colour per class (background grey, circles red,
# rectangles green, triangles blue), so a label map determines its image up to jitter.
CLASS_COLOURS = np.array(
    [[0.5, 0.5, 0.5], [0.85, 0.2, 0.2], [0.2, 0.75, 0.3], [0.2, 0.35, 0.85]], np.float64
)
_MIN_SHAPES, _MAX_SHAPES = 1, 4


def _texture(rng, size):
    """A random smooth gradient plus stripes plus pixel noise, in about [-0.25, 0.25]."""
    ys, xs = np.mgrid[0:size, 0:size] / size
    gradient = rng.uniform(-0.15, 0.15) * xs + rng.uniform(-0.15, 0.15) * ys
    angle, frequency = rng.uniform(0, np.pi), rng.uniform(4, 16)
    stripes = rng.uniform(0, 0.08) * np.sin(
        2 * np.pi * frequency * (xs * np.cos(angle) + ys * np.sin(angle))
    )
    noise = rng.normal(0, rng.uniform(0.01, 0.05), (size, size))
    return (gradient + stripes + noise)[..., None]


def _shape_mask(rng, kind, size):
    """Boolean ``(size, size)`` region of one circle, rectangle or triangle."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    extent = rng.uniform(0.12, 0.3) * size
    cy, cx = rng.uniform(0.1 * size, 0.9 * size, 2)
    if kind == "circle":
        return (ys - cy) ** 2 + (xs - cx) ** 2 <= extent**2
    if kind == "rectangle":
        half_h, half_w = extent * rng.uniform(0.5, 1.0, 2)
        angle = rng.uniform(0, np.pi / 2)
        u = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)
        v = -(xs - cx) * np.sin(angle) + (ys - cy) * np.cos(angle)
        return (np.abs(u) <= half_w) & (np.abs(v) <= half_h)
    angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3 + rng.uniform(-0.3, 0.3, 3)
    corners = np.stack([cx + extent * np.cos(angles), cy + extent * np.sin(angles)], axis=1)
    signs = []
    for i in range(3):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 3]
        signs.append((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0))
    signs = np.stack(signs)
    return (signs >= 0).all(axis=0) | (signs <= 0).all(axis=0)


def _colour(rng, kind, colour_by_class):
    if not colour_by_class:
        return rng.uniform(0, 1, 3)
    return CLASS_COLOURS[CLASS_NAMES.index(kind)] + rng.uniform(-0.08, 0.08, 3)


def shapes_example(index, image_size=128, num_classes=4, seed=0, colour_by_class=False):
    """One example as ``(image float32 HxWx3 in [0, 1], mask int32 HxW)``.

    With ``num_classes=2`` every shape is foreground (1); with 3, only circles and
    rectangles are drawn. ``colour_by_class`` gives every class a fixed colour (small
    jitter), which makes label map -> image synthesis well-posed.

    Example:
        >>> image, mask = keras_segen.data.shapes_example(0, image_size=64)
        >>> image.shape, image.dtype, mask.shape, int(mask.max()) <= 3
        ((64, 64, 3), dtype('float32'), (64, 64), True)
    """
    rng = np.random.default_rng([seed, index])
    kinds = CLASS_NAMES[1:] if num_classes == 2 else CLASS_NAMES[1:num_classes]
    image = _colour(rng, "background", colour_by_class) + _texture(rng, image_size)
    mask = np.zeros((image_size, image_size), np.int32)
    for _ in range(rng.integers(_MIN_SHAPES, _MAX_SHAPES + 1)):
        kind = kinds[rng.integers(len(kinds))]
        region = _shape_mask(rng, kind, image_size)
        colour = _colour(rng, kind, colour_by_class)
        image[region] = (colour + _texture(rng, image_size))[region]
        mask[region] = 1 if num_classes == 2 else CLASS_NAMES.index(kind)
    return np.clip(image, 0, 1).astype(np.float32), mask


def shapes_arrays(
    num_examples, image_size=128, num_classes=4, seed=0, start=0, colour_by_class=False
):
    """Examples ``start .. start + num_examples - 1`` stacked: uint8 images and uint8 masks."""
    images = np.empty((num_examples, image_size, image_size, 3), np.uint8)
    masks = np.empty((num_examples, image_size, image_size), np.uint8)
    for i in range(num_examples):
        image, mask = shapes_example(start + i, image_size, num_classes, seed, colour_by_class)
        images[i] = np.round(image * 255)
        masks[i] = mask
    return images, masks
