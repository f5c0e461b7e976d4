"""Segmentation datasets as ``tf.data`` pipelines: shapes, TFDS, and folders of files."""

import dataclasses
import os
import pathlib

import numpy as np
import tensorflow as tf

from keras_segen.data.augment import augment as augment_pair
from keras_segen.data.preprocessing import image_size_pair, preprocess_image, resize_mask
from keras_segen.data.shapes import CLASS_NAMES, shapes_arrays

SPLITS = ("train", "validation", "test")
# The embedded data; in "shapes_coloured" every class has a fixed colour (label -> image).
SHAPES_SOURCES = ("shapes", "shapes_coloured")
SHAPES_SPLIT_SIZES = {"train": 1000, "validation": 200, "test": 200}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Oxford-IIIT Pet trimap values: 1 pet, 2 background, 3 border -> classes.
PET_CLASS_NAMES = ("background", "pet", "border")
_PET_TRIMAP_TO_CLASS = (255, 1, 0, 2)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a loaded dataset is: its classes and (where known) its size.

    For segmentation data the classes are the mask labels; for labelled image data
    (``load_images(..., labels=True)``) they are the image classes.

    Example:
        >>> _, info = keras_segen.data.load_segmentation("shapes", num_examples=8, with_info=True)
        >>> info.num_classes, info.class_names
        (4, ('background', 'circle', 'rectangle', 'triangle'))
    """

    source: str
    split: str
    num_classes: int
    class_names: tuple
    num_examples: int | None


def _shapes_examples(split, image_size, num_classes, num_examples, seed, source="shapes"):
    """Raw shapes examples; ``image_size`` is already a ``(height, width)`` pair."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} for 'shapes'; got {split!r}.")
    num_classes = 4 if num_classes is None else num_classes
    if num_classes not in (2, 3, 4):
        raise ValueError(f"shapes has 2, 3 or 4 classes; got num_classes={num_classes}.")
    count = SHAPES_SPLIT_SIZES[split] if num_examples is None else num_examples
    if count < 1:
        raise ValueError(f"num_examples must be >= 1; got {count}.")
    # Disjoint example indices per split, all from the same seed.
    start = SPLITS.index(split) * 10**6
    height, width = image_size
    images, masks = shapes_arrays(
        count, height, num_classes, seed, start, colour_by_class=source == "shapes_coloured"
    )
    if height != width:  # drawn square, then resized like any other data
        images = tf.image.resize(images, image_size).numpy().astype(np.uint8)
        masks = resize_mask(tf.constant(masks)[..., None], image_size).numpy()
    dataset = tf.data.Dataset.from_tensor_slices((images, masks))
    names = ("background", "shape") if num_classes == 2 else CLASS_NAMES[:num_classes]
    info = DatasetInfo(source, split, num_classes, names, count)
    return dataset.map(lambda image, mask: (image, mask, tf.constant(source))), info


def _folder_pairs(root, split):
    """``[(image_path, mask_path)]`` of ``root[/split]/{images,masks}``, paired by file stem."""
    root = pathlib.Path(root)
    base = root / split if (root / split).is_dir() else root
    if base == root and split != "train":
        # A flat folder is one training set; using it again for validation would be silent
        # leakage.
        raise ValueError(
            f"Folder {root} has no {split!r} subfolder; a folder without train/validation/test "
            "subfolders only provides the 'train' split."
        )
    images_dir, masks_dir = base / "images", base / "masks"
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise ValueError(f"Expected a folder {folder} (layout: images/ and masks/).")

    def by_stem(folder):
        files = {}
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(f"{path} is not a PNG or JPEG file.")
            if path.stem in files:
                raise ValueError(f"Two files share the stem {path.stem!r} in {folder}.")
            files[path.stem] = path
        return files

    images, masks = by_stem(images_dir), by_stem(masks_dir)
    unmatched_images = sorted(set(images) - set(masks))
    unmatched_masks = sorted(set(masks) - set(images))
    if unmatched_images:
        raise ValueError(f"Images without a mask in {masks_dir}: {unmatched_images[:10]}")
    if unmatched_masks:
        raise ValueError(f"Masks without an image in {images_dir}: {unmatched_masks[:10]}")
    if not images:
        raise ValueError(f"No images found in {images_dir}.")
    return [(str(images[stem]), str(masks[stem])) for stem in sorted(images)]


def _check_folder(pairs, num_classes, ignore_index):
    """Opens every file once: readable, same size, labels in range. Returns num_classes."""
    from PIL import Image

    largest = 0
    for image_path, mask_path in pairs:
        try:
            with Image.open(image_path) as image:
                image_size = image.size
            with Image.open(mask_path) as mask:
                mask_size = mask.size
                labels = np.asarray(mask)
        except Exception as error:  # PIL raises several types for broken files
            raise ValueError(f"Cannot read {image_path} or {mask_path}: {error}") from None
        if image_size != mask_size:
            raise ValueError(
                f"Image {image_path} is {image_size[0]}x{image_size[1]} but its mask "
                f"{mask_path} is {mask_size[0]}x{mask_size[1]} (width x height)."
            )
        if labels.ndim != 2:
            raise ValueError(f"Mask {mask_path} must have one channel; got shape {labels.shape}.")
        values = np.unique(labels)
        values = values[values != ignore_index]
        if num_classes is not None and values.size and values.max() >= num_classes:
            bad = values[values >= num_classes].tolist()
            raise ValueError(
                f"Mask {mask_path} has labels {bad} >= num_classes={num_classes} that are not "
                f"ignore_index={ignore_index}."
            )
        largest = max(largest, int(values.max()) if values.size else 0)
    return num_classes if num_classes is not None else largest + 1


def _decode(path, channels):
    data = tf.io.read_file(path)
    return tf.io.decode_image(data, channels=channels, expand_animations=False)


def _folder_examples(root, split, num_classes, ignore_index):
    pairs = _folder_pairs(root, split)
    num_classes = _check_folder(pairs, num_classes, ignore_index)
    image_paths, mask_paths = (list(paths) for paths in zip(*pairs))
    dataset = tf.data.Dataset.from_tensor_slices((image_paths, mask_paths))
    dataset = dataset.map(
        lambda image, mask: (_decode(image, 3), _decode(mask, 1)[..., 0], image),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    names = tuple(str(i) for i in range(num_classes))
    return dataset, DatasetInfo(str(root), split, num_classes, names, len(pairs))


def source_kind(source):
    """``"shapes"``, ``"folder"`` or ``"tfds"`` for a dataset argument; a missing path fails."""
    if source in SHAPES_SOURCES:
        return "shapes"
    folder = os.path.expanduser(str(source))
    if os.path.isdir(folder):
        return "folder"
    if folder.startswith((".", os.sep)) or os.path.isabs(folder):
        raise ValueError(f"Dataset folder {source!r} does not exist.")
    return "tfds"


def tfds_builder(name, data_dir=None):
    """The TFDS builder of ``name``; an unknown name is a ValueError."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"Unknown dataset {name!r}: not 'shapes', not an existing folder and not a TFDS "
            "dataset name."
        ) from None


def tfds_split(builder, split):
    """``builder.as_dataset(split)``; data that was never prepared is a ValueError."""
    name = builder.info.name
    try:
        return builder.as_dataset(split=split, shuffle_files=False)
    except AssertionError as error:  # TFDS asserts that the data was prepared
        raise ValueError(
            f"TFDS dataset {name!r} is not prepared in {builder.data_dir}: run "
            f"tfds.builder({name!r}).download_and_prepare() where the internet is reachable, "
            f"or pass data_dir. ({error})"
        ) from None


def _tfds_examples(name, split, num_classes, data_dir):
    import tensorflow_datasets as tfds

    builder = tfds_builder(name, data_dir)
    features = builder.info.features
    image_key = "image"
    mask_keys = [
        key
        for key, feature in features.items()
        if isinstance(feature, tfds.features.Image) and key != image_key and feature.shape[-1] == 1
    ]
    if image_key not in features or not mask_keys:
        raise ValueError(
            f"TFDS dataset {name!r} has no 'image' and single-channel mask Image feature; "
            f"its features are {sorted(features)}."
        )
    mask_key = mask_keys[0]
    if name == "oxford_iiit_pet":
        num_classes, names = len(PET_CLASS_NAMES), PET_CLASS_NAMES
        lookup = tf.constant(_PET_TRIMAP_TO_CLASS + (255,) * 252, tf.int32)
        remap = lambda mask: tf.gather(lookup, tf.cast(mask, tf.int32))  # noqa: E731
        valid_values = (1, 2, 3)
    elif num_classes is None:
        raise ValueError(f"num_classes is needed for the TFDS dataset {name!r}.")
    else:
        names = tuple(str(i) for i in range(num_classes))
        remap, valid_values = (lambda mask: tf.cast(mask, tf.int32)), None
    dataset = tfds_split(builder, split)

    def convert(example):
        mask = example[mask_key][..., 0]
        if valid_values is not None:
            known = tf.reduce_any(
                tf.equal(mask[..., None], tf.constant(valid_values, mask.dtype)), -1
            )
            tf.debugging.assert_equal(
                tf.reduce_all(known),
                True,
                message=f"{name}: trimap values must be 1, 2 or 3 (pet, background, border)",
            )
        source = example.get("file_name", tf.constant(name))
        return example[image_key], remap(mask), source

    count = builder.info.splits[split].num_examples if split in builder.info.splits else None
    return dataset.map(convert), DatasetInfo(name, split, num_classes, names, count)


def _validate(image, mask, source, num_classes, ignore_index):
    """In-graph checks that name the offending file: equal sizes, labels in range."""
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
):
    """A batched ``tf.data`` pipeline of ``(image float32 [0, 1] HxWx3, mask int32 HxW)``.

    Args:
        source: ``"shapes"`` (embedded; ``"shapes_coloured"``: each class has a fixed
            colour, for label -> image synthesis), a TFDS name (``"oxford_iiit_pet"`` or any dataset
            with an ``image`` and a single-channel mask ``Image`` feature), or a folder with
            ``images/`` and ``masks/`` paired by file stem, either under ``train/``,
            ``validation/`` and ``test/`` or directly (then it is the ``"train"`` split only).
        split: ``"train"``, ``"validation"``, ``"test"`` (or a TFDS split string).
        image_size: int or ``(height, width)``; images resized bilinear, masks nearest.
        batch_size: examples per batch, or ``None`` for single examples.
        augment: joint augmentation (``keras_segen.data.augment``) of each example.
        cache: cache decoded, resized examples in memory.
        shuffle: shuffle every epoch; default ``True`` for ``"train"``.
        num_classes: classes of the masks (inferred for folders and known datasets).
        num_examples: size of a ``"shapes"`` split (default 1000/200/200).
        seed: seed of the shapes data, the shuffle and the augmentation.
        ignore_index: mask value that is not a class.
        data_dir: TFDS data directory.
        with_info: also return a ``DatasetInfo``.

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
    size = image_size_pair(image_size)
    kind = source_kind(source)
    if kind == "shapes":
        examples, info = _shapes_examples(split, size, num_classes, num_examples, seed, source)
    elif kind == "folder":
        examples, info = _folder_examples(
            os.path.expanduser(str(source)), split, num_classes, ignore_index
        )
    else:
        examples, info = _tfds_examples(str(source), split, num_classes, data_dir)

    def prepare(image, mask, source_name):
        image, mask = _validate(image, mask, source_name, info.num_classes, ignore_index)
        return preprocess_image(image, size), resize_mask(mask, size)

    dataset = examples.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if split == "train" if shuffle is None else shuffle:
        dataset = dataset.shuffle(min(info.num_examples or 1000, 1000), seed=seed)
    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda pair, pair_seed: augment_pair(*pair, pair_seed, ignore_index=ignore_index),
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
    size = image_size_pair(image_size)
    examples, _ = _shapes_examples(split, size, num_classes, num_examples, seed)
    dataset = examples.map(
        lambda image, mask, _: (preprocess_image(image, size), tf.cast(mask, tf.int32))
    )
    if images_only:
        return dataset.map(lambda image, _: image * 2.0 - 1.0)
    return dataset
