"""tf.data pipelines: shapes, TFDS and dataset folders for segmentation and generation;
standard layouts, exact file reading, the data check; augmentation."""

from keras_segen.data.augment import augment
from keras_segen.data.checks import DataError, Scan, scan_pairs
from keras_segen.data.classes import (
    LabelMapping,
    read_class_file,
    voc_colour,
)
from keras_segen.data.files import DataFileError, read_image, read_mask
from keras_segen.data.images import load_images
from keras_segen.data.layouts import LAYOUTS, Layout, carve_validation, open_layout
from keras_segen.data.mixing import mix_datasets, mixed_length, perturb_label_maps
from keras_segen.data.preprocessing import preprocess_image, resize_mask
from keras_segen.data.report import DataReport, check_data
from keras_segen.data.segmentation import DatasetInfo, load_segmentation, shapes, source_splits
from keras_segen.data.shapes import CLASS_NAMES, shapes_example

__all__ = [
    "CLASS_NAMES",
    "DataError",
    "DataReport",
    "DataFileError",
    "DatasetInfo",
    "LAYOUTS",
    "LabelMapping",
    "Layout",
    "Scan",
    "carve_validation",
    "check_data",
    "open_layout",
    "read_class_file",
    "read_image",
    "read_mask",
    "scan_pairs",
    "voc_colour",
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
    "source_splits",
]
