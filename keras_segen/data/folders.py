"""Dataset folders as segmentation examples: layout, check pass, then exact decoding."""

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


def read_pair(mapping, image_path, mask_path):
    """``(uint8 image, int32 labels)`` of one pair; a fault raises ``DataFileError``."""
    image = read_image(image_path)
    labels, problems = mapping.apply(read_mask(mask_path))
    if problems:
        raise DataFileError(mask_path, problems[0])
    if image.shape[:2] != labels.shape:
        raise DataFileError(image_path, f"image and mask {mask_path} sizes differ")
    return image, labels


def folder_pairs(root, split, num_classes, options):
    """``(good (image, mask) paths, label mapping, info)`` of a folder split; every pair is
    checked first (``scan_pairs``): faults raise one ``DataError`` or, with
    ``on_bad="skip"``, are listed in ``info.skipped``."""
    source = open_layout(root, options["layout"], options["colours"])
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
