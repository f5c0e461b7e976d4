"""Dataset folders as segmentation examples: layout, check pass, then exact decoding."""

import dataclasses

from keras_segen.data.checks import DataError, scan_pairs
from keras_segen.data.classes import find_class_file, read_class_file
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


def read_pair(mapping, image_path, mask_path):
    """``(uint8 image, int32 labels)`` of one pair; a fault raises ``DataFileError``."""
    image = read_image(image_path)
    labels, problems = mapping.apply(read_mask(mask_path))
    if problems:
        raise DataFileError(mask_path, problems[0])
    if image.shape[:2] != labels.shape:
        raise DataFileError(image_path, f"image and mask {mask_path} sizes differ")
    return image, labels


def open_with_classes(root, layout=None, colours=None, classes=None, num_classes=None):
    """``open_layout`` with the classes named by a class file of one's own (``classes``,
    any layout), and ``num_classes`` checked against the names the data comes with.

    Raises a ValueError naming both counts when they differ, before anything is decoded.

    Example:
        >>> import os
        >>> os.makedirs("flat/images"), os.makedirs("flat/masks")
        (None, None)
        >>> with open("flat/classes.txt", "w") as file:
        ...     _ = file.write("sky\\nroad\\ncar\\n")
        >>> keras_segen.data.open_with_classes("flat").class_names
        ('sky', 'road', 'car')
        >>> keras_segen.data.open_with_classes("flat", num_classes=5)
        Traceback (most recent call last):
        ...
        ValueError: num_classes=5, but flat/classes.txt names 3 classes (sky, road, car): ...
    """
    source = open_layout(root, layout, colours)
    origin = f"the {source.name} layout of {root}"
    if classes is not None:
        names, table, _ = read_class_file(classes)
        colours_of_names = table or (source.class_colours or ())[: len(names)] or None
        source = dataclasses.replace(source, class_names=names, class_colours=colours_of_names)
        origin = str(classes)
    elif source.name == "folder" and source.class_names is not None:
        origin = str(colours if isinstance(colours, str) else find_class_file(root) or origin)
    if num_classes and source.num_classes and num_classes != source.num_classes:
        names = ", ".join(source.class_names[:8]) + (", ..." if source.num_classes > 8 else "")
        raise ValueError(
            f"num_classes={num_classes}, but {origin} names {source.num_classes} classes "
            f"({names}): drop num_classes to train on them, or name your {num_classes} "
            "classes in a class file (--classes FILE)."
        )
    return source


def folder_pairs(root, split, num_classes, options):
    """``(good (image, mask) paths, label mapping, info)`` of a folder split; every pair is
    checked first (``scan_pairs``): faults raise one ``DataError`` or, with
    ``on_bad="skip"``, are listed in ``info.skipped``."""
    source = open_with_classes(
        root, options["layout"], options["colours"], options.get("classes"), num_classes
    )
    pairs, problems = _split_pairs(source, split, options["validation_split"], options["seed"])
    num_classes = num_classes or source.num_classes
    scan = scan_pairs(
        pairs, source.mapping, num_classes, options["ignore_index"], options["progress"]
    )
    problems = problems + scan.problems
    name = f"{root} ({source.name} layout, {split} split)"
    if problems and options["on_bad"] == "raise":
        raise DataError(name, problems, total=len(pairs))
    if not scan.good:
        raise ValueError(f"{name} has no usable image/mask pairs.")
    num_classes = scan.num_classes or 1
    names = source.class_names or tuple(str(i) for i in range(num_classes))
    info = DatasetInfo(
        str(root), split, num_classes, names, len(scan.good),
        class_colours=source.class_colours, layout=source.name, skipped=tuple(problems),
        class_pixels=tuple(scan.label_pixels.get(label, 0) for label in range(num_classes)),
    )  # fmt: skip
    return list(scan.good), source.mapping, info


def folder_examples(root, split, num_classes, options):
    """``(dataset of (uint8 image, int32 labels, image path), info)`` of a folder split."""
    import tensorflow as tf

    pairs, mapping, info = folder_pairs(root, split, num_classes, options)

    def read(image_path, mask_path):
        try:
            return read_pair(mapping, image_path.decode(), mask_path.decode())
        except DataFileError as error:  # named in the message (see ``pipeline_error``)
            raise ValueError(f"{PIPELINE_ERROR}{error}") from None

    def decode(image_path, mask_path):
        image, mask = tf.numpy_function(read, [image_path, mask_path], (tf.uint8, tf.int32))
        image.set_shape((None, None, 3))
        mask.set_shape((None, None))
        return image, mask, image_path

    image_paths, mask_paths = (list(paths) for paths in zip(*pairs))
    dataset = tf.data.Dataset.from_tensor_slices((image_paths, mask_paths))
    return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE), info
