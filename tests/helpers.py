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
