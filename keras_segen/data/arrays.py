"""The NumPy data path: the embedded shapes and dataset folders as arrays in memory,
batched by a ``keras.utils.PyDataset`` (with workers), on every backend and without
TensorFlow. The batches equal the ``tf.data`` pipeline's: the same examples, bilinear
images in [0, 1] and nearest-neighbour masks (TensorFlow's half-pixel rule)."""

import importlib.util
import math

import keras
import numpy as np

from keras_segen.data.preprocessing import image_size_pair

PIPELINES = ("auto", "tf.data", "numpy")


def tensorflow_available():
    """Whether TensorFlow is installed (it is not imported here)."""
    return importlib.util.find_spec("tensorflow") is not None


def resolve_pipeline(pipeline):
    """``"tf.data"`` or ``"numpy"``; ``"auto"`` is tf.data when TensorFlow is installed.

    Example:
        >>> keras_segen.data.resolve_pipeline("numpy")
        'numpy'
    """
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline must be one of {PIPELINES}; got {pipeline!r}.")
    if pipeline == "auto":
        return "tf.data" if tensorflow_available() else "numpy"
    if pipeline == "tf.data" and not tensorflow_available():
        raise ValueError("pipeline='tf.data' needs TensorFlow, which is not installed; "
                         "use pipeline='numpy' or install tensorflow.")  # fmt: skip
    return pipeline


def resize_images(images, image_size):
    """``(N, H, W, C)`` uint8 or [0, 1] float images -> float32 in [0, 1] at ``image_size``."""
    images = np.asarray(images)
    scaled = images.astype("float32") / 255.0 if images.dtype == np.uint8 else images
    if tuple(images.shape[1:3]) != tuple(image_size):
        scaled = bilinear(scaled, image_size)
    return np.clip(scaled, 0.0, 1.0).astype("float32")


def bilinear(images, image_size):
    """``(N, H, W, C)`` resized bilinear (half-pixel centres, as ``tf.image.resize``), float32."""
    resized = keras.ops.image.resize(
        np.asarray(images, "float32"), image_size, interpolation="bilinear"
    )
    return keras.ops.convert_to_numpy(resized)


def nearest_indices(in_size, out_size):
    """Source rows of a nearest-neighbour resize, ``tf.image.resize``'s half-pixel rule."""
    scale = in_size / out_size
    return np.minimum(np.floor((np.arange(out_size) + 0.5) * scale), in_size - 1).astype(int)


def resize_masks(masks, image_size):
    """``(N, H, W)`` label masks -> int32 at ``image_size`` (nearest neighbour).

    Example:
        >>> keras_segen.data.arrays.resize_masks([[[0, 1], [2, 3]]], 4)[0].tolist()
        [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    masks = np.asarray(masks)
    height, width = image_size_pair(image_size)
    rows = nearest_indices(masks.shape[1], height)
    columns = nearest_indices(masks.shape[2], width)
    return masks[:, rows][:, :, columns].astype("int32")


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays for ``fit``: a ``keras.utils.PyDataset``.

    Args:
        arrays: a tuple of arrays of equal length (e.g. ``(images, masks)``), or one array.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: draw a new order every epoch.
        seed: seed of the order.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size``
            (``keras.utils.PyDataset``).

    Example:
        >>> batches = keras_segen.data.ArrayBatches((np.arange(10), np.arange(10) * 2), 4)
        >>> len(batches), [b.tolist() for b in batches[2]]
        (3, [[8, 9], [16, 18]])
    """

    def __init__(self, arrays, batch_size, shuffle=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(shuffle=shuffle, seed=seed, **kwargs)
        self.single = not isinstance(arrays, tuple)
        self.arrays = (arrays,) if self.single else arrays
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"ArrayBatches: arrays have different lengths {sorted(lengths)}.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        self.num_examples = lengths.pop()
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(self.num_examples)
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = tuple(a[rows] for a in self.arrays)
        return batch[0] if self.single else batch

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(self.num_examples)

    def with_arrays(self, arrays):
        """New batches of ``arrays`` with this one's batch size, shuffling, seed and workers."""
        return ArrayBatches(arrays, self.batch_size, **self.options)


def first_examples(dataset, count):
    """The first ``count`` examples of a batched dataset (tf.data or ``ArrayBatches``), as a
    tuple of NumPy arrays (or one array)."""
    if isinstance(dataset, ArrayBatches):
        batch = tuple(a[:count] for a in dataset.arrays)
        return batch[0] if dataset.single else batch
    batch = next(iter(dataset.unbatch().batch(count)))
    if isinstance(batch, tuple):
        return tuple(keras.ops.convert_to_numpy(part) for part in batch)
    return keras.ops.convert_to_numpy(batch)


def steps_per_epoch(dataset):
    """Batches per epoch of a dataset, or ``None`` when unknown (tf.data infinite/unknown)."""
    if isinstance(dataset, ArrayBatches):
        return len(dataset)
    steps = int(dataset.cardinality())
    return steps if steps >= 0 else None


def segmentation_arrays(source, split, image_size, num_classes, num_examples, seed, folder):
    """``(images float32 [0, 1], masks int32, info)`` of a shapes or folder split."""
    from keras_segen.data.folders import folder_pairs, read_pair
    from keras_segen.data.sources import shapes_split

    if folder is None:
        images, masks, info = shapes_split(
            split, image_size, num_classes, num_examples, seed, source
        )
        if image_size[0] != image_size[1]:  # drawn square: resized as the tf.data path does
            images = bilinear(images, image_size).astype("uint8")
            masks = resize_masks(masks, image_size)
        return resize_images(images, image_size), masks.astype("int32"), info
    pairs, mapping, info = folder_pairs(source, split, num_classes, folder)
    images = np.empty((len(pairs), *image_size, 3), "float32")
    masks = np.empty((len(pairs), *image_size), "int32")
    for index, (image_path, mask_path) in enumerate(pairs):
        image, mask = read_pair(mapping, image_path, mask_path)
        images[index] = resize_images(image[None], image_size)[0]
        masks[index] = resize_masks(mask[None], image_size)[0]
    return images, masks, info
