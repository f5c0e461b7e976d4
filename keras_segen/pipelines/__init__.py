"""Segmentation and generation together: semantic image editing and GAN-made training data.

Example:
    >>> stages = keras_segen.pipelines.edit_scene(image, unet, pix2pix, edits)
    >>> keras_segen.pipelines.synthesize("runs/pix2pix", "synthetic", num=500)
"""

from keras_segen.pipelines.generator import generate_from_label_maps, label_to_image_generator
from keras_segen.pipelines.scene import (
    blend_mask,
    composite,
    edit_scene,
    edit_scene_files,
    paste_region,
    remove_classes,
    replace_classes,
    segment,
)
from keras_segen.pipelines.synthetic import synthesize, synthetic_pairs, write_pairs

__all__ = [
    "blend_mask",
    "composite",
    "edit_scene",
    "edit_scene_files",
    "generate_from_label_maps",
    "label_to_image_generator",
    "paste_region",
    "remove_classes",
    "replace_classes",
    "segment",
    "synthesize",
    "synthetic_pairs",
    "write_pairs",
]
