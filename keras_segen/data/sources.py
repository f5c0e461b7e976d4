"""What a dataset argument names, and what every loader returns about it."""

import contextlib
import dataclasses
import os
import sys

from keras_segen.data.layouts import SPLITS
from keras_segen.data.shape_drawing import CLASS_NAMES, shapes_arrays
from keras_segen.data.street_drawing import STREET_CLASSES, STREET_COLOURS, street_arrays

# The embedded data; in "shapes_coloured" every class has a fixed colour (label -> image);
# "streets" are street scenes in perspective (street_drawing.py).
SHAPES_SOURCES = ("shapes", "shapes_coloured", "streets")
SHAPES_SPLIT_SIZES = {"train": 1000, "validation": 200, "test": 200, "unlabelled": 2000}
# Embedded images drawn for semi-supervised training, disjoint from the labelled splits.
EMBEDDED_SPLITS = (*SPLITS, "unlabelled")
# Marks the message of a file fault raised inside the tf.data graph (``pipeline_error``).
PIPELINE_ERROR = "keras_segen data fault: "


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a loaded dataset is: its classes and (where known) its size.

    For segmentation data the classes are the mask labels; for labelled image data
    (``load_images(..., labels=True)``) they are the image classes. ``class_colours``
    are the dataset's own ``(r, g, b)`` per class where it has them (VOC, Cityscapes,
    ADE20K, colour masks); ``layout`` is the folder layout; ``skipped`` lists the
    ``(path, problem)`` of every pair left out with ``on_bad="skip"``.

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
    class_colours: tuple | None = None
    layout: str | None = None
    skipped: tuple = ()  # (path, problem) of the pairs left out with on_bad="skip"
    class_pixels: tuple | None = None  # pixels per class, where the data was scanned

    def empty_classes(self):
        """``(label, name)`` of the classes with no pixel in this data (where it was scanned)."""
        if self.class_pixels is None:
            return []
        return [(i, self.class_names[i]) for i, n in enumerate(self.class_pixels) if n == 0]


def shapes_split(split, image_size, num_classes, num_examples, seed, source="shapes"):
    """``(uint8 images, uint8 masks, info)`` of a split of an embedded source (shapes,
    shapes_coloured, streets), drawn at ``image_size[0]``.

    Non-square sizes are drawn square and resized by the caller's pipeline.
    """
    if split not in EMBEDDED_SPLITS:
        raise ValueError(f"split must be one of {SPLITS} for {source!r}; got {split!r}.")
    count = SHAPES_SPLIT_SIZES[split] if num_examples is None else num_examples
    if count < 1:
        raise ValueError(f"num_examples must be >= 1; got {count}.")
    start = EMBEDDED_SPLITS.index(split) * 10**6  # disjoint example indices per split, one seed
    if source == "streets":
        if num_classes not in (None, len(STREET_CLASSES)):
            raise ValueError(f"streets has {len(STREET_CLASSES)} classes; got "
                             f"num_classes={num_classes}.")  # fmt: skip
        images, masks = street_arrays(count, image_size[0], seed, start)
        info = DatasetInfo(source, split, len(STREET_CLASSES), STREET_CLASSES, count,
                           class_colours=STREET_COLOURS)  # fmt: skip
        return images, masks, info
    num_classes = 4 if num_classes is None else num_classes
    if num_classes not in (2, 3, 4):
        raise ValueError(f"shapes has 2, 3 or 4 classes; got num_classes={num_classes}.")
    images, masks = shapes_arrays(
        count, image_size[0], num_classes, seed, start, colour_by_class=source == "shapes_coloured"
    )
    names = ("background", "shape") if num_classes == 2 else CLASS_NAMES[:num_classes]
    return images, masks, DatasetInfo(source, split, num_classes, names, count)


def shapes_examples(split, image_size, num_classes, num_examples, seed, source="shapes"):
    """``(dataset, info)`` of raw shapes examples at ``image_size`` ``(height, width)``."""
    import tensorflow as tf

    from keras_segen.data.preprocessing import resize_mask

    images, masks, info = shapes_split(split, image_size, num_classes, num_examples, seed, source)
    if image_size[0] != image_size[1]:  # drawn square, then resized like any other data
        images = tf.image.resize(images, image_size).numpy().astype("uint8")
        masks = resize_mask(tf.constant(masks)[..., None], image_size).numpy()
    dataset = tf.data.Dataset.from_tensor_slices((images, masks))
    return dataset.map(lambda image, mask: (image, mask, tf.constant(source))), info


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


def pipeline_error(error):
    """A ``ValueError`` naming the file, from an error raised inside a ``tf.data`` graph.

    The pipeline's own checks put the file name into their messages; this keeps the
    message and drops TensorFlow's node names and traceback.
    """
    message = getattr(error, "message", str(error))
    if PIPELINE_ERROR in message:
        text = message.split(PIPELINE_ERROR, 1)[1].splitlines()[0]
    else:
        text = message.split("\n")[0]
    return ValueError(f"Invalid data: {text}")


@contextlib.contextmanager
def data_errors_named():
    """Turns a data fault raised inside a ``tf.data`` graph into ``pipeline_error``'s
    ValueError, which names the file, instead of a bare graph error."""
    try:
        yield
    except Exception as error:
        tf = sys.modules.get("tensorflow")  # a graph error implies TensorFlow is imported
        graph_errors = (
            () if tf is None else (tf.errors.InvalidArgumentError, tf.errors.UnknownError)
        )
        if isinstance(error, graph_errors):
            raise pipeline_error(error) from None
        raise
