"""The README picture, made by the library: U-Net overlays and a DCGAN sample grid.

Usage:
    python benchmarks/readme_figure.py      # about 5 minutes on a 2-core CPU

Trains a U-Net on shapes (64x64) and a DCGAN on shapes_coloured (32x32: every class has
its own colour, a distribution a DCGAN learns in minutes on a CPU), then draws held-out
images with their predicted masks and 16 generated samples into docs/readme.png.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import keras_segen  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "docs", "readme.png")


def main():
    """Trains both models in a temporary folder and writes the picture."""
    with tempfile.TemporaryDirectory() as root:
        report = keras_segen.train(
            "unet", "shapes", epochs=6, batch_size=8, image_size=64, out=f"{root}/unet",
            preset="small", learning_rate=2e-3, num_examples=3000,
            validation_examples=200, augment=False, verbose=0,
        )  # fmt: skip
        unet = keras.models.load_model(f"{root}/unet/best.keras")
        keras_segen.train_generation(
            "dcgan", "shapes_coloured", epochs=15, batch_size=32, image_size=32,
            out=f"{root}/dcgan", latent_dim=64, filters=32, d_filters=32, num_examples=3000,
            verbose=0,
        )  # fmt: skip
        samples = keras_segen.generate(f"{root}/dcgan", num=16, out=f"{root}/grid.png", seed=3)
    test = keras_segen.data.load_segmentation("shapes", "test", 64, 4, num_examples=4)
    images, _ = next(iter(test))
    predicted = np.argmax(unet.predict(images, verbose=0), axis=-1)

    figure = Figure(figsize=(12, 4.2), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[1.05, 1])
    left.suptitle(f"U-Net predictions, held-out shapes (mIoU {report['mean_iou']:.2f})")
    for axis, image, mask in zip(left.subplots(2, 2).flat, images.numpy(), predicted):
        axis.imshow(keras_segen.viz.overlay(image, mask))
        axis.set_axis_off()
    right.suptitle("DCGAN samples, 32x32 coloured shapes")
    for axis, sample in zip(right.subplots(4, 4).flat, samples):
        axis.imshow(np.clip((sample + 1) / 2, 0, 1))
        axis.set_axis_off()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    figure.savefig(OUT, dpi=80)
    print(f"wrote {os.path.abspath(OUT)} (U-Net held-out mIoU {report['mean_iou']:.4f})")


if __name__ == "__main__":
    main()
