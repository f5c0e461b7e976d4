"""Segmentation datasets: shapes, TFDS and dataset folders as ``tf.data`` pipelines, or
(shapes and folders) as NumPy batches (``keras_segen.data.arrays``) without TensorFlow."""

import os

from keras_segen.data.arrays import ArrayBatches, resolve_pipeline, segmentation_arrays
from keras_segen.data.checks import ON_BAD
from keras_segen.data.layouts import SPLITS, open_layout
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.data.sources import DatasetInfo, source_kind

__all__ = ["AUGMENTATIONS", "DatasetInfo", "load_segmentation", "shapes", "source_splits"]

# ``augment=`` names -> arguments of ``keras_segen.data.augment`` (None: no augmentation).
AUGMENTATIONS = {
    "none": None,
    "geometric": {"colour": 0.0},
    "colour": {"flip": False, "max_rotation": 0.0, "scale_range": (1.0, 1.0)},
    "all": {},
}


def augment_arguments(augment):
    """``keras_segen.data.augment`` arguments of ``augment`` (a name or a bool), or None."""
    if isinstance(augment, bool):
        augment = "all" if augment else "none"
    if augment not in AUGMENTATIONS:
        raise ValueError(
            f"augment must be one of {tuple(AUGMENTATIONS)} (or a bool); got {augment!r}."
        )
    return AUGMENTATIONS[augment]


def source_splits(source, layout=None, data_dir=None):
    """The splits ``("train", "validation", "test")`` that ``source`` has with masks.

    Example:
        >>> keras_segen.data.source_splits("shapes")
        ('train', 'validation', 'test')
    """
    kind = source_kind(source)
    if kind == "shapes":
        return SPLITS
    if kind == "folder":
        return tuple(s for s in SPLITS if s in open_layout(source, layout).splits)
    from keras_segen.data.tfds_sources import tfds_builder, tfds_split

    builder = tfds_builder(str(source), data_dir)
    if not builder.info.splits:
        tfds_split(builder, "train")  # data never prepared: raises the error that says so
    return tuple(s for s in SPLITS if s in builder.info.splits)


def _validate(image, mask, source, num_classes, ignore_index):
    """In-graph checks that name the offending file: equal sizes, labels in range."""
    import tensorflow as tf

    tf.debugging.assert_equal(
        tf.shape(image)[:2],
        tf.shape(mask)[:2],
        message=tf.strings.join(["image and mask sizes differ in ", source]),
    )
    labels = tf.cast(mask, tf.int32)
    bad = tf.logical_and(labels >= num_classes, labels != ignore_index)
    tf.debugging.assert_equal(
        tf.reduce_any(bad),
        False,
        message=tf.strings.join(
            [
                f"mask labels >= num_classes={num_classes} that are not ignore_index="
                f"{ignore_index} in ",
                source,
            ]
        ),
    )
    return image, mask


def load_segmentation(
    source="shapes",
    split="train",
    image_size=128,
    batch_size=16,
    augment=False,
    cache=True,
    shuffle=None,
    num_classes=None,
    num_examples=None,
    seed=0,
    ignore_index=255,
    data_dir=None,
    with_info=False,
    layout=None,
    colours=None,
    classes=None,
    validation_split=None,
    on_bad="raise",
    progress=None,
    pipeline="auto",
    workers=1,
):
    """A batched ``tf.data`` pipeline of ``(image float32 [0, 1] HxWx3, mask int32 HxW)``.

    Or, with ``pipeline="numpy"`` (the default when TensorFlow is not installed), the same
    batches from arrays in memory as a ``keras.utils.PyDataset`` (``ArrayBatches``) that
    ``fit`` takes on every backend: shapes and folder sources, a fixed ``image_size`` and
    ``batch_size``, no ``augment``.

    A folder is read in its standard layout (``keras_segen.data.layouts``: generic
    ``images/`` + ``masks/``, Pascal VOC, Cityscapes, ADE20K, CamVid), and every pair is
    decoded once before the pipeline is built: all faults are reported together in one
    ``DataError`` (file, problem), or left out with ``on_bad="skip"`` (then listed in
    ``info.skipped``). Files are read by ``keras_segen.data.read_image`` / ``read_mask``
    (palette PNG masks as indices, lossy masks refused, EXIF orientation applied).

    Args:
        source: ``"shapes"`` (embedded; ``"shapes_coloured"``: each class has a fixed
            colour, for label -> image synthesis), a TFDS name (``"oxford_iiit_pet"`` or
            any dataset with an ``image`` and a single-channel mask ``Image`` feature), or a
            dataset folder (see ``keras_segen.data.layouts``).
        split: ``"train"``, ``"validation"``, ``"test"`` (or a TFDS split string).
        image_size: int or ``(height, width)``; images resized bilinear, masks nearest.
            ``None`` keeps every example at its own size (``batch_size`` None or 1).
        batch_size: examples per batch, or ``None`` for single examples.
        augment: joint augmentation (``keras_segen.data.augment``) of each example:
            ``"geometric"`` (flip, rotation, scale-and-crop), ``"colour"`` (brightness,
            contrast, saturation, hue), ``"all"`` (both; also ``True``) or ``"none"``.
        cache: cache decoded, resized examples in memory.
        shuffle: shuffle every epoch; default ``True`` for ``"train"``.
        num_classes: classes of the masks (inferred for folders and known datasets).
        num_examples: size of a ``"shapes"`` split (default 1000/200/200).
        seed: seed of the shapes data, the shuffle, the augmentation and
            ``validation_split``.
        ignore_index: mask value that is not a class.
        data_dir: TFDS data directory.
        with_info: also return a ``DatasetInfo``.
        layout: the folder layout (``keras_segen.data.LAYOUTS``); detected by default.
        colours: colour table of RGB masks (``{name: (r, g, b)}``, a list, or a class
            file); by default a class file beside the data.
        classes: a class file of one's own naming the classes of a folder in any layout
            (e.g. a VOC-layout copy of one's own data); ``num_classes`` must agree with it.
        validation_split: a fraction in (0, 1): ``"train"`` and ``"validation"`` are then a
            seeded, disjoint split of the source's training data (``carve_validation``;
            for TFDS the last fraction of the split in TFDS's own order).
        on_bad: ``"raise"`` (every fault in one ``DataError``) or ``"skip"``.
        progress: show the check's progress bar (default: for 200 pairs or more).
        pipeline: ``"tf.data"``, ``"numpy"`` or ``"auto"`` (tf.data if TensorFlow is
            installed).
        workers: ``PyDataset`` workers of the NumPy pipeline.

    Returns:
        The dataset, or ``(dataset, info)`` with ``with_info=True``.

    Example:
        >>> train = keras_segen.data.load_segmentation(
        ...     "shapes", "train", image_size=64, batch_size=8, augment=True, num_examples=32)
        >>> images, masks = next(iter(train))
        >>> images.shape, masks.shape
        (TensorShape([8, 64, 64, 3]), TensorShape([8, 64, 64]))
    """
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}.")
    if on_bad not in ON_BAD:
        raise ValueError(f"on_bad must be one of {ON_BAD}; got {on_bad!r}.")
    if image_size is None and batch_size not in (None, 1):
        raise ValueError("image_size=None keeps each image's own size: use batch_size=None or 1.")
    size = None if image_size is None else image_size_pair(image_size)
    augment_name, augment = augment, augment_arguments(augment)
    kind = source_kind(source)
    folder_options = dict(
        layout=layout, colours=colours, classes=classes, validation_split=validation_split,
        seed=seed,
        on_bad=on_bad, progress=progress, ignore_index=ignore_index,
    )  # fmt: skip
    if kind == "shapes" and validation_split:
        raise ValueError(f"{source!r} has its own validation split; drop validation_split.")
    if resolve_pipeline(pipeline) == "numpy":
        if kind == "tfds" or augment is not None or size is None or batch_size is None:
            raise ValueError(
                "The NumPy pipeline reads shapes and folder sources at a fixed image_size and "
                "batch_size, without augment; use pipeline='tf.data' (TensorFlow) for "
                f"{source!r} with augment={augment_name!r}, image_size={image_size}, "
                f"batch_size={batch_size}."
            )
        folder = folder_options if kind == "folder" else None
        if folder:
            source = os.path.expanduser(str(source))
        images, masks, info = segmentation_arrays(
            source, split, size, num_classes, num_examples, seed, folder
        )
        shuffle = split == "train" if shuffle is None else shuffle
        batches = ArrayBatches((images, masks), batch_size, shuffle, seed, workers=workers)
        return (batches, info) if with_info else batches
    return _tf_pipeline(
        source, kind, split, size, batch_size=batch_size, augment=augment, cache=cache,
        shuffle=shuffle, num_classes=num_classes, num_examples=num_examples, seed=seed,
        ignore_index=ignore_index, data_dir=data_dir, folder_options=folder_options,
        with_info=with_info,
    )  # fmt: skip


def _tf_pipeline(
    source, kind, split, size, *, batch_size, augment, cache, shuffle, num_classes,
    num_examples, seed, ignore_index, data_dir, folder_options, with_info,
):  # fmt: skip
    import tensorflow as tf

    from keras_segen.data.augmentation import augment as augment_pair
    from keras_segen.data.folders import folder_examples
    from keras_segen.data.preprocessing import preprocess_image, resize_mask
    from keras_segen.data.sources import shapes_examples
    from keras_segen.data.tfds_sources import tfds_examples

    validation_split = folder_options["validation_split"]
    if kind == "shapes":
        examples, info = shapes_examples(
            split, size or (128, 128), num_classes, num_examples, seed, source
        )
    elif kind == "folder":
        examples, info = folder_examples(
            os.path.expanduser(str(source)), split, num_classes, folder_options
        )
    else:
        examples, info = tfds_examples(str(source), split, num_classes, data_dir, validation_split)

    def prepare(image, mask, source_name):
        image, mask = _validate(image, mask, source_name, info.num_classes, ignore_index)
        if size is None:
            return tf.cast(image, tf.float32) / 255.0, tf.cast(mask, tf.int32)
        return preprocess_image(image, size), resize_mask(mask, size)

    dataset = examples.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if split == "train" if shuffle is None else shuffle:
        dataset = dataset.shuffle(min(info.num_examples or 1000, 1000), seed=seed)
    if augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda pair, pair_seed: augment_pair(
                *pair, pair_seed, ignore_index=ignore_index, **augment
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return (dataset, info) if with_info else dataset


def shapes(
    num_examples=1000, image_size=128, num_classes=4, seed=0, images_only=False, split="train"
):
    """The embedded shapes data as an unbatched ``tf.data.Dataset``.

    Args:
        num_examples: number of examples.
        image_size: int or ``(height, width)``.
        num_classes: 4 (background, circle, rectangle, triangle), 3 or 2 (foreground).
        seed: the same seed gives the same examples.
        images_only: yield only images, scaled to [-1, 1] for ``tanh`` generators.
        split: ``"train"``, ``"validation"`` or ``"test"``: disjoint examples.

    Returns:
        ``(image float32 [0, 1] HxWx3, mask int32 HxW)`` pairs, or images in [-1, 1].

    Example:
        >>> for image, mask in keras_segen.data.shapes(8, image_size=64).take(1):
        ...     print(image.shape, mask.shape, mask.dtype)
        (64, 64, 3) (64, 64) <dtype: 'int32'>
    """
    import tensorflow as tf

    from keras_segen.data.preprocessing import preprocess_image
    from keras_segen.data.sources import shapes_examples

    size = image_size_pair(image_size)
    examples, _ = shapes_examples(split, size, num_classes, num_examples, seed)
    dataset = examples.map(
        lambda image, mask, _: (preprocess_image(image, size), tf.cast(mask, tf.int32))
    )
    if images_only:
        return dataset.map(lambda image, _: image * 2.0 - 1.0)
    return dataset
