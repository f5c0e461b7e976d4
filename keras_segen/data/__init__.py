"""tf.data pipelines: shapes, TFDS and folders for segmentation and generation; augmentation."""

from keras_segen.data.augment import augment
from keras_segen.data.images import load_images
from keras_segen.data.mixing import mix_datasets, mixed_length, perturb_label_maps
from keras_segen.data.preprocessing import preprocess_image, resize_mask
from keras_segen.data.segmentation import DatasetInfo, load_segmentation, shapes
from keras_segen.data.shapes import CLASS_NAMES, shapes_example

__all__ = [
    "CLASS_NAMES",
    "DatasetInfo",
    "load_images",
    "augment",
    "load_segmentation",
    "mix_datasets",
    "mixed_length",
    "perturb_label_maps",
    "preprocess_image",
    "resize_mask",
    "shapes",
    "shapes_example",
]
