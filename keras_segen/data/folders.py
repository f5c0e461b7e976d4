"""Dataset folders as segmentation examples: layout, check pass, then exact decoding."""

import tensorflow as tf

from keras_segen.data.checks import DataError, scan_pairs
from keras_segen.data.files import DataFileError, read_image, read_mask
from keras_segen.data.layouts import carve_validation, open_layout
from keras_segen.data.sources import PIPELINE_ERROR, DatasetInfo


def _split_pairs(source, split, validation_split, seed):
    """``(pairs, problems)`` of ``split``, carving validation data out of train if asked."""
    if not validation_split or split not in ("train", "validation"):
        return source.pairs(split)
    pairs, problems = source.pairs("train")
    train, validation = carve_validation(pairs, validation_split, seed)
    return (train, problems) if split == "train" else (validation, [])


def _pair_reader(mapping):
    """``(image_path, mask_path) -> (uint8 image, int32 labels)`` for ``tf.numpy_function``;
    a fault raises a ValueError that names the file (see ``pipeline_error``)."""

    def read(image_path, mask_path):
        image_path, mask_path = image_path.decode(), mask_path.decode()
        try:
            image = read_image(image_path)
            labels, problems = mapping.apply(read_mask(mask_path))
            if problems:
                raise DataFileError(mask_path, problems[0])
            if image.shape[:2] != labels.shape:
                raise DataFileError(image_path, f"image and mask {mask_path} sizes differ")
        except DataFileError as error:
            raise ValueError(f"{PIPELINE_ERROR}{error}") from None
        return image, labels

    return read


def folder_examples(root, split, num_classes, ignore_index, options):
    """``(dataset of (uint8 image, int32 labels, image path), info)`` of a folder split;
    every pair is checked first (``scan_pairs``)."""
    source = open_layout(root, options["layout"], options["colours"])
    pairs, problems = _split_pairs(source, split, options["validation_split"], options["seed"])
    num_classes = num_classes or source.num_classes
    scan = scan_pairs(pairs, source.mapping, num_classes, ignore_index, options["progress"])
    problems = problems + scan.problems
    name = f"{root} ({source.name} layout, {split} split)"
    if problems and options["on_bad"] == "raise":
        raise DataError(name, problems, total=len(pairs))
    if not scan.good:
        raise ValueError(f"{name} has no usable image/mask pairs.")
    image_paths, mask_paths = (list(paths) for paths in zip(*scan.good))
    read = _pair_reader(source.mapping)

    def decode(image_path, mask_path):
        image, mask = tf.numpy_function(read, [image_path, mask_path], (tf.uint8, tf.int32))
        image.set_shape((None, None, 3))
        mask.set_shape((None, None))
        return image, mask, image_path

    dataset = tf.data.Dataset.from_tensor_slices((image_paths, mask_paths))
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    num_classes = scan.num_classes or 1
    names = source.class_names or tuple(str(i) for i in range(num_classes))
    info = DatasetInfo(
        str(root), split, num_classes, names, len(scan.good),
        class_colours=source.class_colours, layout=source.name, skipped=tuple(problems),
    )  # fmt: skip
    return dataset, info
