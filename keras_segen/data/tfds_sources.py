"""TFDS datasets as segmentation examples (offline: the data must be prepared)."""

import tensorflow as tf

from keras_segen.data.layouts import carve_validation
from keras_segen.data.sources import DatasetInfo

# Oxford-IIIT Pet trimap values: 1 pet, 2 background, 3 border -> classes.
PET_CLASS_NAMES = ("background", "pet", "border")
_PET_TRIMAP_TO_CLASS = (255, 1, 0, 2)


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


def _tfds_carved_split(builder, split, validation_split):
    """The TFDS split string of ``split`` when validation data is carved out of train."""
    if not validation_split or split not in ("train", "validation"):
        return split
    carve_validation([(0, 0), (1, 1)], validation_split, 0)  # validates the fraction
    total = builder.info.splits["train"].num_examples
    count = max(1, round(validation_split * total))
    return f"train[:-{count}]" if split == "train" else f"train[-{count}:]"


def tfds_examples(name, split, num_classes, data_dir, validation_split=None):
    """``(dataset of (image, mask, file name), info)`` of a TFDS segmentation dataset."""
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
    tfds_name = _tfds_carved_split(builder, split, validation_split)
    dataset = tfds_split(builder, tfds_name)

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

    try:
        count = builder.info.splits[tfds_name].num_examples
    except (KeyError, ValueError):
        count = None
    return dataset.map(convert), DatasetInfo(name, split, num_classes, names, count)
