"""Segment -> edit -> generate -> composite on held-out scenes: the figure of every stage.

Usage:
    python benchmarks/scene_editing.py      # about 5 minutes on a 2-core CPU

Trains a label -> image pix2pix and a U-Net on ``shapes_coloured`` (64x64), then edits
four held-out scenes, one edit each, chosen from what the segmenter found in the image:
an object's class replaced, an object removed, objects pasted elsewhere, and a scene
with every object removed. Writes benchmarks/results/scene_editing.png and prints the
held-out scores of both models.
"""

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import pipelines  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "results", "scene_editing.png")
DATASET, SIZE, NUM_CLASSES = "shapes_coloured", 64, 4


def edits_for(label_map):
    """One edit per scene, using a class that is present (or ``None`` if there is none)."""
    present = [int(c) for c in np.unique(label_map) if c != 0]
    if not present:
        return []
    first = present[0]
    return [
        ("replace", lambda labels: pipelines.replace_classes(
            labels, {first: first % (NUM_CLASSES - 1) + 1})),
        ("remove", lambda labels: pipelines.remove_classes(labels, [first])),
        ("paste", lambda labels: pipelines.paste_region(labels, labels, offset=(0, SIZE // 3))),
        ("remove all", lambda labels: pipelines.remove_classes(labels, present)),
    ]  # fmt: skip


def main():
    """Trains both models in a temporary folder and writes the figure."""
    with tempfile.TemporaryDirectory() as root:
        keras_segen.train_generation(
            "pix2pix", DATASET, epochs=10, batch_size=16, image_size=SIZE, out=f"{root}/p2p",
            filters=16, d_filters=16, num_examples=1500, test_examples=200, verbose=0,
        )  # fmt: skip
        with open(f"{root}/p2p/metrics.json") as file:
            generator_scores = json.load(file)
        report = keras_segen.train(
            "unet", DATASET, epochs=4, batch_size=8, image_size=SIZE, out=f"{root}/unet",
            preset="small", learning_rate=2e-3, num_examples=1500,
            validation_examples=200, augment=False, verbose=0,
        )  # fmt: skip
        segmenter, _ = keras_segen.runs.load_run_or_model(f"{root}/unet")
        generator, _ = keras_segen.runs.load_run_or_model(f"{root}/p2p")
    test = keras_segen.data.load_segmentation(
        DATASET, "test", SIZE, batch_size=None, shuffle=False, num_examples=12
    )
    stages, names = [], []
    for image, _ in test:
        image = image.numpy()
        choices = edits_for(pipelines.segment(segmenter, image))
        if len(stages) < len(choices):
            name, edit = choices[len(stages)]
            stages.append(pipelines.edit_scene(image, segmenter, generator, [edit], margin=2))
            names.append(name)
        if len(stages) == 4:
            break
    figure = keras_segen.viz.plot_scene_stages(stages)
    for axis, name in zip(figure.axes[::6], names):
        axis.set_ylabel(name)
        axis.set_axis_on()
        axis.set_xticks([])
        axis.set_yticks([])
    figure.savefig(OUT, dpi=80)
    print(f"wrote {os.path.abspath(OUT)}: edits {names}")
    print(f"pix2pix held-out {generator_scores}; U-Net held-out mIoU {report['mean_iou']:.4f}")


if __name__ == "__main__":
    main()
