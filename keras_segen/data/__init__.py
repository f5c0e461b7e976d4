"""tf.data pipelines: the embedded shapes data, TFDS and image folders, and augmentation."""

from keras_segen.data.augment import augment
from keras_segen.data.preprocessing import preprocess_image, resize_mask
from keras_segen.data.segmentation import SegmentationInfo, load_segmentation, shapes
from keras_segen.data.shapes import CLASS_NAMES, shapes_example

__all__ = [
    "CLASS_NAMES",
    "SegmentationInfo",
    "augment",
    "load_segmentation",
    "preprocess_image",
    "resize_mask",
    "shapes",
    "shapes_example",
]
