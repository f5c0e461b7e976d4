"""Classical segmentation baselines in TensorFlow ops (run inside ``tf.data`` and graphs).

Edge detectors (Sobel, Roberts, Canny) and k-means colour clustering, plus the two steps
that turn their output into a label map that the learned models' metrics can score:
``edge_regions`` (connected regions between edges) and ``majority_classes`` (each region
or cluster takes the ground-truth class that covers most of it — an oracle mapping, the
usual way to score unsupervised segmentations, and an upper bound for these baselines).

Images are float ``(B, H, W, C)`` in [0, 1]; colour images are converted to grey
(ITU-R 601 luma) for the edge detectors.
"""

import math

import keras
import tensorflow as tf


def _grey(images):
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(f"images must be (B, H, W, C); got shape {images.shape}.")
    return tf.image.rgb_to_grayscale(images) if images.shape[-1] == 3 else images[..., :1]


def _filter(grey, kernel):
    kernel = tf.constant(kernel, tf.float32)[..., None, None]
    return tf.nn.conv2d(grey, kernel, strides=1, padding="SAME")[..., 0]


def sobel_gradients(images):
    """``(gy, gx)`` Sobel derivatives of the grey image, each ``(B, H, W)``.

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> gy, gx = keras_segen.classical.sobel_gradients(step)
        >>> gx[0, 0].numpy().tolist(), float(tf.reduce_max(tf.abs(gy)))
        ([0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, 0.0], 0.0)
    """
    grey = tf.pad(_grey(images), [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    gy = _filter(grey, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])[:, 1:-1, 1:-1]
    gx = _filter(grey, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])[:, 1:-1, 1:-1]
    return gy, gx


def sobel_edges(images):
    """Sobel gradient magnitude ``(B, H, W)`` (Sobel & Feldman 1968).

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> keras_segen.classical.sobel_edges(step)[0, 0].numpy().tolist()
        [0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, 0.0]
    """
    gy, gx = sobel_gradients(images)
    return tf.sqrt(gy**2 + gx**2)


def roberts_edges(images):
    """Roberts cross gradient magnitude ``(B, H, W)`` (Roberts 1963), 2x2 diagonal kernels.

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> keras_segen.classical.roberts_edges(step)[0, 0].numpy().astype(float).round(4).tolist()
        [0.0, 0.0, 0.0, 1.4142, 0.0, 0.0, 0.0, 0.0]
    """
    grey = _grey(images)
    next_row = tf.concat([grey[:, 1:], grey[:, -1:]], axis=1)
    diagonal = tf.concat([next_row[:, :, 1:], next_row[:, :, -1:]], axis=2)
    anti_right = tf.concat([grey[:, :, 1:], grey[:, :, -1:]], axis=2)
    first = grey - diagonal  # [[1, 0], [0, -1]]
    second = anti_right - next_row  # [[0, 1], [-1, 0]]
    return tf.sqrt(first**2 + second**2)[..., 0]


def _gaussian_blur(grey, sigma):
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    weights = tf.exp(-(offsets**2) / (2 * sigma**2))
    weights /= tf.reduce_sum(weights)
    padded = tf.pad(grey, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "SYMMETRIC")
    rows = tf.nn.conv2d(padded, tf.reshape(weights, (-1, 1, 1, 1)), 1, "VALID")
    return tf.nn.conv2d(rows, tf.reshape(weights, (1, -1, 1, 1)), 1, "VALID")


def _shift(x, dy, dx):
    """``x[y + dy, x + dx]`` with zeros outside, for ``(B, H, W)``."""
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1]])
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    return padded[:, 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]


def canny_edges(images, sigma=1.0, low=0.1, high=0.2):
    """Canny edges ``(B, H, W)`` bool (Canny 1986).

    Gaussian smoothing, Sobel gradients, non-maximum suppression along the gradient
    direction (quantised to 0, 45, 90, 135 degrees), and hysteresis: pixels above ``high``
    are edges, pixels above ``low`` are edges when connected (8-neighbourhood) to one.
    Thresholds are on the gradient magnitude of [0, 1] images (a unit step gives 4).

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> edges = keras_segen.classical.canny_edges(step, sigma=0)  # no blur: one column
        >>> edges[0].numpy().sum(axis=0).tolist()
        [0, 0, 0, 0, 8, 0, 0, 0]
    """
    if not 0 <= low <= high:
        raise ValueError(f"canny_edges needs 0 <= low <= high; got low={low}, high={high}.")
    smoothed = _gaussian_blur(_grey(images), sigma) if sigma > 0 else _grey(images)
    gy, gx = sobel_gradients(smoothed)
    magnitude = tf.sqrt(gy**2 + gx**2)
    angle = tf.math.floormod(tf.atan2(gy, gx) * 180.0 / math.pi, 180.0)
    sector = tf.cast(tf.math.floormod(tf.round(angle / 45.0), 4), tf.int32)
    keep = tf.zeros_like(magnitude, tf.bool)
    # Neighbours along the gradient for sectors 0 (x), 1 (45 deg), 2 (y), 3 (135 deg).
    for index, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
        # ">" on one side breaks the tie of a symmetric ridge: one pixel wide, not two.
        is_max = (magnitude > _shift(magnitude, dy, dx)) & (
            magnitude >= _shift(magnitude, -dy, -dx)
        )
        keep |= (sector == index) & is_max
    thin = tf.where(keep, magnitude, 0.0)
    weak = thin >= low
    strong = thin >= high

    def grow(edges):
        neighbours = tf.nn.max_pool2d(tf.cast(edges, tf.float32)[..., None], 3, 1, "SAME")
        return weak & (neighbours[..., 0] > 0)

    def not_converged(previous, current):
        return tf.reduce_any(previous != current)

    _, edges = tf.while_loop(
        not_converged, lambda _, current: (current, grow(current)), (tf.zeros_like(strong), strong)
    )
    return edges


def kmeans_segmentation(images, num_clusters=4, iterations=10, seed=0):
    """Per-image k-means on pixel colours: cluster ids ``(B, H, W)`` int32.

    Centres start at ``num_clusters`` pixels drawn with ``seed`` (k-means++-free, so
    deterministic and graph-friendly) and are refined for ``iterations`` Lloyd steps.

    Example:
        >>> image = np.zeros((1, 8, 8, 3), "float32")
        >>> image[:, :, 4:] = [0.0, 0.0, 1.0]  # black left half, blue right half
        >>> clusters = keras_segen.classical.kmeans_segmentation(image, 2)[0].numpy()
        >>> left, right = clusters[:, :4], clusters[:, 4:]
        >>> len(np.unique(left)), len(np.unique(right)), len(np.unique(clusters))
        (1, 1, 2)
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(f"images must be (B, H, W, C); got shape {images.shape}.")
    if num_clusters < 1:
        raise ValueError(f"num_clusters must be >= 1; got {num_clusters}.")
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    pixels = tf.reshape(images, (batch, height * width, images.shape[-1]))
    picks = tf.random.stateless_uniform(
        (num_clusters,), (seed, 0), maxval=height * width, dtype=tf.int32
    )
    centres = tf.gather(pixels, picks, axis=1)

    def assign(centres):
        distances = tf.reduce_sum((pixels[:, :, None] - centres[:, None]) ** 2, axis=-1)
        return tf.argmin(distances, axis=-1, output_type=tf.int32)

    for _ in range(iterations):
        one_hot = tf.one_hot(assign(centres), num_clusters)  # (B, N, K)
        counts = tf.reduce_sum(one_hot, axis=1)[..., None]
        sums = tf.einsum("bnk,bnc->bkc", one_hot, pixels)
        centres = tf.where(counts > 0, sums / tf.maximum(counts, 1.0), centres)
    return tf.reshape(assign(centres), (batch, height, width))


def edge_regions(edges, max_iterations=None):
    """Labels of the connected (4-neighbourhood) regions between edges, ``(B, H, W)`` int32.

    Edge pixels get -1. Each region is labelled with the smallest flat pixel index in it,
    by repeated min-propagation (at most ``max_iterations``, default ``H * W``).

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> edges = keras_segen.classical.canny_edges(step, sigma=0)
        >>> keras_segen.classical.edge_regions(edges)[0, 0].numpy().tolist()  # -1: edge pixels
        [0, 0, 0, 0, -1, 5, 5, 5]
    """
    edges = tf.convert_to_tensor(edges, tf.bool)
    batch, height, width = tf.shape(edges)[0], tf.shape(edges)[1], tf.shape(edges)[2]
    size = height * width
    ids = tf.reshape(tf.range(size), (1, height, width)) + tf.zeros((batch, 1, 1), tf.int32)
    big = size + 1
    labels = tf.where(edges, big, ids)

    def step(labels):
        candidates = [labels]
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            shifted = tf.pad(labels, [[0, 0], [1, 1], [1, 1]], constant_values=big)
            candidates.append(shifted[:, 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width])
        return tf.where(edges, big, tf.reduce_min(tf.stack(candidates), axis=0))

    limit = size if max_iterations is None else max_iterations
    _, labels, _ = tf.while_loop(
        lambda previous, current, count: tf.reduce_any(previous != current) & (count < limit),
        lambda _, current, count: (current, step(current), count + 1),
        (tf.fill(tf.shape(labels), -1), labels, 0),
    )
    return tf.where(edges, -1, labels)


def majority_classes(regions, masks, num_classes, ignore_index=255):
    """Maps each region / cluster id to the ground-truth class covering most of it.

    Args:
        regions: ``(B, H, W)`` int ids (negative = unassigned, e.g. edge pixels).
        masks: ``(B, H, W)`` ground-truth classes.
        num_classes: number of classes.
        ignore_index: mask value that votes for nothing.

    Returns:
        A ``(B, H, W)`` int32 label map; unassigned pixels get class 0.

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> edges = keras_segen.classical.canny_edges(step, sigma=0)
        >>> regions = keras_segen.classical.edge_regions(edges)
        >>> masks = np.zeros((1, 8, 8), "int32")
        >>> masks[:, :, 5:] = 1  # the bright region is class 1
        >>> keras_segen.classical.majority_classes(regions, masks, 2)[0, 0].numpy().tolist()
        [0, 0, 0, 0, 0, 1, 1, 1]
    """
    regions = tf.cast(regions, tf.int32)
    masks = tf.cast(masks, tf.int32)
    batch = tf.shape(regions)[0]
    flat_regions = tf.reshape(regions, (batch, -1))
    flat_masks = tf.reshape(masks, (batch, -1))
    segments = tf.reduce_max(flat_regions) + 1
    valid = (flat_regions >= 0) & (flat_masks != ignore_index) & (flat_masks < num_classes)
    offsets = tf.range(batch)[:, None] * segments
    keys = tf.where(valid, (flat_regions + offsets) * num_classes + flat_masks, 0)
    votes = tf.math.unsorted_segment_sum(
        tf.reshape(tf.cast(valid, tf.int32), [-1]),
        tf.reshape(keys, [-1]),
        batch * segments * num_classes,
    )
    winners = tf.argmax(tf.reshape(votes, (-1, num_classes)), axis=-1, output_type=tf.int32)
    picked = tf.gather(winners, tf.maximum(flat_regions, 0) + offsets)
    labels = tf.where(flat_regions >= 0, picked, 0)
    return tf.reshape(labels, tf.shape(regions))


def slic_superpixels(images, num_segments=64, compactness=0.5, iterations=10):
    """SLIC-style superpixels: ids ``(B, H, W)`` int32 (Achanta et al., TPAMI 2012).

    Centres start on a regular grid of step ``S = sqrt(H * W / num_segments)``; each
    iteration assigns every pixel to the centre minimising
    ``|colour - c_k|^2 + (compactness * |xy - xy_k| / S)^2`` among the centres within
    ``S`` in each direction (farther centres cost a large penalty), then moves the
    centres to the means of their pixels. Colours are the [0, 1] RGB values (the paper
    uses CIELAB), so ``compactness`` 0.5 makes one grid step cost like a colour
    difference of 0.5.

    Example:
        >>> images = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
        >>> superpixels = keras_segen.classical.slic_superpixels(images, num_segments=16)
        >>> superpixels.shape, int(tf.reduce_max(superpixels)) < 16
        (TensorShape([2, 32, 32]), True)
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4 or images.shape[1] is None or images.shape[2] is None:
        raise ValueError(f"images must be (B, H, W, C) with a fixed size; got {images.shape}.")
    if num_segments < 1:
        raise ValueError(f"num_segments must be >= 1; got {num_segments}.")
    height, width = images.shape[1], images.shape[2]
    step = math.sqrt(height * width / num_segments)
    rows = max(1, round(height / step))
    columns = max(1, round(width / step))
    ys = (tf.range(rows, dtype=tf.float32) + 0.5) * height / rows
    xs = (tf.range(columns, dtype=tf.float32) + 0.5) * width / columns
    grid_y, grid_x = tf.meshgrid(ys, xs, indexing="ij")
    batch = tf.shape(images)[0]
    centre_xy = tf.tile(tf.reshape(tf.stack([grid_y, grid_x], -1), (1, -1, 2)), (batch, 1, 1))
    pixel_y, pixel_x = tf.meshgrid(
        tf.range(height, dtype=tf.float32) + 0.5, tf.range(width, dtype=tf.float32) + 0.5,
        indexing="ij",
    )  # fmt: skip
    pixel_xy = tf.reshape(tf.stack([pixel_y, pixel_x], -1), (1, -1, 2))
    colours = tf.reshape(images, (batch, height * width, images.shape[-1]))
    index = tf.cast(tf.stack([tf.clip_by_value(centre_xy[..., 0], 0, height - 1),
                              tf.clip_by_value(centre_xy[..., 1], 0, width - 1)], -1),
                    tf.int32)  # fmt: skip
    centre_colour = tf.gather(colours, index[..., 0] * width + index[..., 1], batch_dims=1)
    count = rows * columns
    weight = (compactness / step) ** 2

    def assign(centre_colour, centre_xy):
        colour_distance = tf.reduce_sum(
            (colours[:, :, None] - centre_colour[:, None]) ** 2, axis=-1
        )
        offsets = tf.abs(pixel_xy[:, :, None] - centre_xy[:, None])
        spatial = tf.reduce_sum(offsets**2, axis=-1)
        outside = tf.cast(tf.reduce_any(offsets > step, axis=-1), tf.float32)
        total = colour_distance + weight * spatial + 1e6 * outside
        return tf.argmin(total, axis=-1, output_type=tf.int32)

    for _ in range(iterations):
        one_hot = tf.one_hot(assign(centre_colour, centre_xy), count)
        members = tf.reduce_sum(one_hot, axis=1)[..., None]
        safe = tf.maximum(members, 1.0)
        centre_colour = tf.where(
            members > 0, tf.einsum("bnk,bnc->bkc", one_hot, colours) / safe, centre_colour
        )
        positions = tf.einsum("bnk,nc->bkc", one_hot, pixel_xy[0])
        centre_xy = tf.where(members > 0, positions / safe, centre_xy)
    return tf.reshape(assign(centre_colour, centre_xy), (batch, height, width))


METHODS = {
    "sobel": sobel_edges,
    "roberts": roberts_edges,
    "canny": canny_edges,
    "kmeans": kmeans_segmentation,
    "slic": slic_superpixels,
}


@keras.saving.register_keras_serializable(package="keras_segen")
class ClassicalBaseline(keras.layers.Layer):
    """A classical operator as a Keras layer: ``ClassicalBaseline("canny", {"sigma": 1.4})``.

    ``method`` is one of ``sobel``, ``roberts``, ``canny`` (edge maps), ``kmeans`` or
    ``slic`` (region ids); ``options`` go to the function of the same name.

    Example:
        >>> step = np.zeros((1, 8, 8, 1), "float32")
        >>> step[:, :, 4:] = 1.0  # dark left half, bright right half
        >>> canny = keras_segen.classical.ClassicalBaseline("canny", {"sigma": 0})
        >>> canny(step)[0].numpy().sum(axis=0).tolist()
        [0, 0, 0, 0, 8, 0, 0, 0]
    """

    def __init__(self, method, options=None, **kwargs):
        super().__init__(**kwargs)
        if method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}; got {method!r}.")
        self.method = method
        self.options = dict(options or {})

    def call(self, images):
        return METHODS[self.method](images, **self.options)

    def get_config(self):
        return {**super().get_config(), "method": self.method, "options": self.options}
