"""Image datasets for the generation trainers: images in [-1, 1], optionally with class labels."""

import os
import pathlib

import numpy as np

from keras_segen.data.arrays import (
    ArrayBatches,
    resize_images,
    resolve_pipeline,
    segmentation_arrays,
)
from keras_segen.data.files import IMAGE_SUFFIXES, DataFileError, is_hidden, read_image
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.data.shape_drawing import CLASS_NAMES
from keras_segen.data.sources import PIPELINE_ERROR, DatasetInfo, source_kind

# ITU-R BT.601 luma, the weights of tf.image.rgb_to_grayscale.
GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def _shapes_images(source, split, size, num_examples, seed):
    """Shapes images labelled with their dominant shape: 0 circle, 1 rectangle, 2 triangle."""
    import tensorflow as tf

    from keras_segen.data.sources import shapes_examples

    examples, info = shapes_examples(split, size, None, num_examples, seed, source)
    if source == "streets":  # unlabelled scenes (load_images refuses labels=True)
        return examples.map(lambda image, mask, _: (image, 0)), info

    def label(image, mask, _):
        areas = tf.reduce_sum(tf.one_hot(tf.cast(mask, tf.int32), 4), axis=(0, 1))
        return image, tf.argmax(areas[1:], output_type=tf.int32)

    names = CLASS_NAMES[1:]
    return examples.map(label), DatasetInfo(source, split, 3, names, info.num_examples)


def _folder_files(root, split, labels):
    """``(files, label ids, info)`` of the images under ``root[/split]``; with ``labels``
    the first-level subfolders are the classes."""
    base = pathlib.Path(root)
    if (base / split).is_dir():
        base = base / split
    files = sorted(
        path
        for path in base.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(path)
    )
    if not files:
        raise ValueError(f"No PNG or JPEG images found under {base}.")
    classes = ()
    label_ids = [0] * len(files)
    if labels:
        loose = [str(path) for path in files if path.parent == base]
        if loose:
            raise ValueError(
                f"labels=True needs one subfolder per class under {base}; these images are "
                f"in no class folder: {loose[:5]}"
            )
        classes = tuple(sorted({path.relative_to(base).parts[0] for path in files}))
        label_ids = [classes.index(path.relative_to(base).parts[0]) for path in files]
    return files, label_ids, DatasetInfo(str(root), split, len(classes), classes, len(files))


def _folder_images(root, split, labels):
    import tensorflow as tf

    files, label_ids, info = _folder_files(root, split, labels)
    dataset = tf.data.Dataset.from_tensor_slices(([str(path) for path in files], label_ids))
    return dataset.map(lambda path, label: (decoded_image(path), label)), info


def _read_file(path):
    try:
        return read_image(path.decode())
    except DataFileError as error:
        raise ValueError(f"{PIPELINE_ERROR}{error}") from None


def decoded_image(path):
    """The image file at the string tensor ``path``, decoded by ``read_image`` inside a
    tf.data pipeline: ``uint8 (H, W, 3)``; a fault raises the library's data-fault error."""
    import tensorflow as tf

    image = tf.numpy_function(_read_file, [path], tf.uint8)
    image.set_shape((None, None, 3))
    return image


def _tfds_images(name, split, labels, data_dir):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_segen.data.tfds_sources import tfds_builder, tfds_split

    builder = tfds_builder(name, data_dir)
    features = builder.info.features
    if "image" not in features:
        raise ValueError(f"TFDS dataset {name!r} has no 'image' feature: {sorted(features)}.")
    classes = ()
    if labels:
        label = features["label"] if "label" in features else None
        if not isinstance(label, tfds.features.ClassLabel):
            raise ValueError(
                f"TFDS dataset {name!r} has no ClassLabel 'label' feature to condition on."
            )
        classes = tuple(label.names)
    dataset = tfds_split(builder, split).map(
        lambda example: (example["image"], example["label"] if labels else tf.constant(0))
    )
    count = builder.info.splits[split].num_examples if split in builder.info.splits else None
    return dataset, DatasetInfo(name, split, len(classes), classes, count)


def _image_arrays(source, kind, split, size, num_examples, seed, labels):
    """``(float32 images [0, 1] at size, int32 labels, info)`` for the NumPy pipeline."""
    if kind == "tfds":
        raise ValueError(f"TFDS source {source!r} needs pipeline='tf.data' (TensorFlow).")
    if kind == "shapes":
        images, masks, info = segmentation_arrays(
            source, split, size, None, num_examples, seed, None
        )
        if source == "streets":  # unlabelled scenes (load_images refuses labels=True)
            return images, np.zeros(len(images), "int32"), info
        areas = np.stack([(masks == label).sum(axis=(1, 2)) for label in (1, 2, 3)], axis=1)
        info = DatasetInfo(source, split, 3, CLASS_NAMES[1:], info.num_examples)
        return images, np.argmax(areas, axis=1).astype("int32"), info
    files, label_ids, info = _folder_files(os.path.expanduser(str(source)), split, labels)
    images = np.empty((len(files), *size, 3), "float32")
    for index, path in enumerate(files):
        images[index] = resize_images(read_image(path)[None], size)[0]
    return images, np.asarray(label_ids, "int32"), info


def _with_channels(images, channels):
    if channels == 1:
        return np.tensordot(images, np.asarray(GREY_WEIGHTS, "float32"), axes=1)[..., None]
    return images


def load_images(
    source="shapes",
    split="train",
    image_size=64,
    batch_size=32,
    channels=3,
    labels=False,
    num_examples=None,
    shuffle=None,
    seed=0,
    data_dir=None,
    with_info=False,
    pipeline="auto",
    workers=1,
):
    """A batched ``tf.data`` pipeline of images in [-1, 1] for ``tanh`` generators.

    Or, with ``pipeline="numpy"`` (the default when TensorFlow is not installed), the same
    batches from arrays in memory as a ``keras.utils.PyDataset`` (shapes and folder
    sources; grey conversion within 2/255 of TensorFlow's).

    Args:
        source: ``"shapes"`` or ``"shapes_coloured"`` (labels: the dominant shape, circle /
            rectangle / triangle), a TFDS
            name with an ``image`` (and for labels a ClassLabel ``label``) feature, or a
            folder of PNG/JPEG files (for labels: one subfolder per class), optionally with
            ``train/``, ``validation/``, ``test/`` subfolders.
        split: the split to read.
        image_size: int or ``(height, width)``; bilinear resize.
        batch_size: images per batch.
        channels: 1 (grey) or 3.
        labels: also yield int32 class labels (for ``ConditionalGAN``).
        num_examples: size of a ``"shapes"`` split.
        shuffle: shuffle every epoch; default ``True`` for ``"train"``.
        seed: seed of the shapes data and the shuffle.
        data_dir: TFDS data directory.
        with_info: also return a ``DatasetInfo``.
        pipeline: ``"tf.data"``, ``"numpy"`` or ``"auto"`` (tf.data if TensorFlow is
            installed).
        workers: ``PyDataset`` workers of the NumPy pipeline.

    Returns:
        Batches of images ``(B, H, W, channels)``, or ``(images, labels)``; with
        ``with_info``, ``(dataset, info)``.

    Example:
        >>> images = keras_segen.data.load_images("shapes", image_size=32, batch_size=8)
        >>> batch = next(iter(images))
        >>> batch.shape, float(tf.reduce_min(batch)) >= -1, float(tf.reduce_max(batch)) <= 1
        (TensorShape([8, 32, 32, 3]), True, True)
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    size = image_size_pair(image_size)
    kind = source_kind(source)
    if labels and source == "streets":
        raise ValueError("'streets' scenes have no image labels; for label map -> image "
                         "use a label-map recipe (pix2pix).")  # fmt: skip
    if resolve_pipeline(pipeline) == "numpy":
        images, label_ids, info = _image_arrays(
            source, kind, split, size, num_examples, seed, labels
        )
        images = _with_channels(images, channels) * 2.0 - 1.0
        arrays = (images, label_ids) if labels else images
        shuffle = split == "train" if shuffle is None else shuffle
        batches = ArrayBatches(arrays, batch_size, shuffle, seed, workers=workers)
        return (batches, info) if with_info else batches
    import tensorflow as tf

    from keras_segen.data.preprocessing import preprocess_image

    if kind == "shapes":
        dataset, info = _shapes_images(source, split, size, num_examples, seed)
    elif kind == "folder":
        dataset, info = _folder_images(os.path.expanduser(str(source)), split, labels)
    else:
        dataset, info = _tfds_images(str(source), split, labels, data_dir)

    def prepare(image, label):
        if image.shape[-1] == 1 and channels == 3:
            image = tf.image.grayscale_to_rgb(image)
        elif image.shape[-1] != 1 and channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        image = preprocess_image(image, size) * 2.0 - 1.0
        return (image, tf.cast(label, tf.int32)) if labels else image

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if split == "train" if shuffle is None else shuffle:
        dataset = dataset.shuffle(min(info.num_examples or 1000, 1000), seed=seed)
    dataset = dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return (dataset, info) if with_info else dataset
