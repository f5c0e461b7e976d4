"""Datasets: shapes, TFDS and dataset folders for segmentation and generation, as tf.data
pipelines or (``pipeline="numpy"``, the default without TensorFlow) ``PyDataset`` batches;
standard layouts, exact file reading, the data check; augmentation. Names are imported on
first use, so TensorFlow is imported only by the tf.data code."""

from keras_segen.lazy import lazy_attributes

_EXPORTS = {
    "ArrayBatches": "keras_segen.data.arrays",
    "CLASS_NAMES": "keras_segen.data.shape_drawing",
    "DataError": "keras_segen.data.checks",
    "DataFileError": "keras_segen.data.files",
    "DataReport": "keras_segen.data.report",
    "DatasetInfo": "keras_segen.data.segmentation",
    "LAYOUTS": "keras_segen.data.layouts",
    "LabelMapping": "keras_segen.data.classes",
    "Layout": "keras_segen.data.layouts",
    "STREET_PERTURBATION": "keras_segen.data.street_drawing",
    "Scan": "keras_segen.data.checks",
    "arrays": "",
    "augment": "keras_segen.data.augmentation",
    "carve_validation": "keras_segen.data.layouts",
    "check_data": "keras_segen.data.report",
    "load_images": "keras_segen.data.images",
    "load_segmentation": "keras_segen.data.segmentation",
    "load_unlabelled": "keras_segen.data.unlabelled",
    "mix_datasets": "keras_segen.data.mixing",
    "mixed_length": "keras_segen.data.mixing",
    "open_layout": "keras_segen.data.layouts",
    "open_with_classes": "keras_segen.data.folders",
    "perturb_label_maps": "keras_segen.data.mixing",
    "preprocess_image": "keras_segen.data.preprocessing",
    "read_class_file": "keras_segen.data.classes",
    "read_image": "keras_segen.data.files",
    "read_mask": "keras_segen.data.files",
    "resize_mask": "keras_segen.data.preprocessing",
    "resolve_pipeline": "keras_segen.data.arrays",
    "scan_pairs": "keras_segen.data.checks",
    "shapes": "keras_segen.data.segmentation",
    "shapes_example": "keras_segen.data.shape_drawing",
    "source_splits": "keras_segen.data.segmentation",
    "street_example": "keras_segen.data.street_drawing",
    "voc_colour": "keras_segen.data.classes",
    "with_unlabelled": "keras_segen.data.unlabelled",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
