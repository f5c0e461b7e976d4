"""Shared test helpers: small configurations of every registered model and a tiny batch."""

import subprocess
import sys

import numpy as np

IMAGE_SIZE = 32
NUM_CLASSES = 3

# Small widths so that every model builds and trains in about a second on a CPU.
SMALL_SEGMENTATION_CONFIGS = {
    "unet": dict(filters=4, depth=2),
    "fcn": dict(filters=4, fc_units=8),
    "segnet": dict(filters=4),
    "deeplabv3_plus": dict(filters=4, aspp_filters=8, low_level_filters=4),
    "reseg": dict(stem_filters=(8,), renet_units=(8,), patch_sizes=(2,), upsampling_filters=8),
}


def tiny_batch(batch=2, size=IMAGE_SIZE, channels=3, num_classes=NUM_CLASSES, seed=0):
    """Images in [0, 1] and masks in which each class is a vertical band, darker to lighter."""
    rng = np.random.default_rng(seed)
    columns = np.arange(size) * num_classes // size
    masks = np.broadcast_to(columns, (batch, size, size)).astype("int32").copy()
    images = masks[..., None] / max(num_classes - 1, 1) + rng.normal(
        0, 0.05, (batch, size, size, channels)
    )
    return np.clip(images, 0, 1).astype("float32"), masks


def run_python(code):
    """Runs ``code`` in a fresh Python process and returns its stdout; fails on error."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


SMALL_GENERATION_CONFIGS = {
    "dcgan_generator": dict(latent_dim=8, image_shape=(32, 32, 3), filters=4),
    "dcgan_discriminator": dict(image_shape=(32, 32, 3), filters=4),
    "vae_encoder": dict(image_shape=(32, 32, 3), latent_dim=4, filters=4),
    "vae_decoder": dict(latent_dim=4, image_shape=(32, 32, 3), filters=4),
    "conditional_generator": dict(latent_dim=8, num_classes=3, image_shape=(32, 32, 3), filters=4),
    "conditional_discriminator": dict(image_shape=(32, 32, 3), num_classes=3, filters=4),
    "pix2pix_generator": dict(input_shape=(32, 32, 4), output_channels=3, filters=4),
    "patchgan_discriminator": dict(input_shape=(32, 32, 4), target_channels=3, filters=4),
    "label_map_discriminator": dict(input_shape=(32, 32, 3), num_classes=3, filters=8),
}


def small_model(name):
    """Any registered model at the small test size (segmenters: 32x32, 3 classes)."""
    import keras_segen

    if name in SMALL_SEGMENTATION_CONFIGS:
        return keras_segen.get_model(
            name,
            input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
            num_classes=NUM_CLASSES,
            **SMALL_SEGMENTATION_CONFIGS[name],
        )
    return keras_segen.get_model(name, **SMALL_GENERATION_CONFIGS[name])


def sample_inputs(model, count=4, seed=0):
    """Inputs for every model input: images in [0, 1], N(0, 1) latents, labels in [0, 3)."""
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        if "int" in str(tensor.dtype):
            inputs.append(rng.integers(0, NUM_CLASSES, (count,)).astype("int32"))
        elif len(tensor.shape) == 2:
            inputs.append(rng.normal(size=(count, tensor.shape[-1])).astype("float32"))
        else:
            inputs.append(rng.uniform(0, 1, (count, *tensor.shape[1:])).astype("float32"))
    return inputs if len(inputs) > 1 else inputs[0]
