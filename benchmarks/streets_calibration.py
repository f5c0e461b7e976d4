"""How far few labels are from many on the embedded street scenes: a U-Net trained on N
labelled scenes at the benchmark budget, scored on 200 held-out scenes. Writes
benchmarks/results/streets_calibration.md.

The budget: 64x64 scenes, the U-Net's ``small`` preset, batch 16, geometric augmentation,
Adam 1e-3 with a cosine decay, the same number of steps whatever N (N labelled images
repeated), so that only the labels differ. The target of issue #26: below 0.6 mIoU with
50 labelled scenes, above 0.8 with 2,000.

    python benchmarks/streets_calibration.py [--labels 50 200 2000] [--steps 1500] [--seeds 1]
        [--size 64] [--preset small] [--out FILE] [--visibility N]

``--size`` and ``--preset`` try other budgets than the benchmark's (64, ``small``). The page
gives the mean over seeds of the mIoU and of each class's IoU. ``--visibility N`` adds how
visible the objects of N test scenes are at ``--size`` (``--labels`` with no value: that
table alone): per class, the objects (connected regions of the mask), their median width
in pixels, and the colour distance between an object's mean colour and that of the pixels
within 2 px around it (RGB in [0, 1]; the share below 0.05 is about what blur and noise
make indistinguishable).
"""

import argparse
import os
import statistics
import sys
import time

import keras
import numpy as np
from scipy import ndimage

import keras_segen
from keras_segen.data.street_drawing import STREET_CLASSES

BATCH = 16
OBJECTS = STREET_CLASSES[STREET_CLASSES.index("vegetation"):]  # trees, vehicles, people, poles
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "streets_calibration.md")  # fmt: skip


def held_out_miou(model, seed, size):
    """Mean IoU and per-class IoU on the 200 test scenes."""
    test = keras_segen.data.load_segmentation("streets", split="test", image_size=size,
                                              batch_size=50, seed=seed)  # fmt: skip
    metric = keras_segen.metrics.MeanIoU(len(STREET_CLASSES))
    for images, masks in test:
        metric.update_state(masks, model(images, training=False))
    return float(metric.result()), metric


def per_class_iou(metric):
    """``{class: IoU}`` from a confusion-matrix metric."""
    matrix = np.asarray(metric.matrix, float)
    union = matrix.sum(0) + matrix.sum(1) - np.diag(matrix)
    return {name: float(iou) for name, iou in zip(STREET_CLASSES, np.diag(matrix) / union)}


def train(labels, steps, seed, size=64, preset="small"):
    """A U-Net trained for ``steps`` steps on ``labels`` scenes; returns (mIoU, seconds,
    per-class IoU)."""
    keras.utils.set_random_seed(seed)
    data = keras_segen.data.load_segmentation(
        "streets", image_size=size, batch_size=BATCH, num_examples=labels, seed=seed,
        augment="geometric",
    ).repeat()  # fmt: skip
    model = keras_segen.get_model("unet", preset, input_shape=(size, size, 3),
                                  num_classes=len(STREET_CLASSES))  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, steps)
    model.compile(keras.optimizers.Adam(schedule), keras_segen.losses.CEDiceLoss())
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps // 10, epochs=10, verbose=0)
    seconds = time.perf_counter() - start
    miou, metric = held_out_miou(model, seed, size)
    return miou, seconds, per_class_iou(metric)


def object_measures(image, mask, label):
    """``(contrast, width)`` of each object of class ``label`` (a connected region of the mask
    of at least 2 pixels): the colour distance between its mean colour and that of the
    pixels within 2 px around it, and its mean width in pixels over its rows."""
    regions, count = ndimage.label(mask == label)
    for region in range(1, count + 1):
        inside = regions == region
        ring = ndimage.binary_dilation(inside, iterations=2) & (mask != label)
        if inside.sum() >= 2 and ring.any():
            contrast = np.linalg.norm(image[inside].mean(0) - image[ring].mean(0))
            yield contrast, inside.sum(1)[inside.any(1)].mean()


def visibility(size, scenes, seed=0):
    """Table lines: per object class of ``scenes`` test scenes at ``size``, the number of
    objects, their median width and their colour contrast with their surroundings."""
    test = keras_segen.data.load_segmentation("streets", split="test", image_size=size,
                                              batch_size=scenes, num_examples=scenes,
                                              shuffle=False, seed=seed)  # fmt: skip
    images, masks = (np.asarray(array) for array in next(iter(test)))
    objects = {name: {"contrast": [], "width": []} for name in OBJECTS}
    for image, mask in zip(images, masks):
        for name in OBJECTS:
            for contrast, width in object_measures(image, mask, STREET_CLASSES.index(name)):
                objects[name]["contrast"].append(contrast)
                objects[name]["width"].append(width)
    lines = [
        f"Objects of {scenes} test scenes at {size}x{size}:",
        "",
        "| class | objects | median width (px) | median contrast | contrast < 0.05 |",
        "|---|---|---|---|---|",
    ]
    for name, found in objects.items():
        contrast = np.array(found["contrast"])
        lines.append(f"| {name} | {len(contrast)} | {np.median(found['width']):.1f} | "
                     f"{np.median(contrast):.3f} | {np.mean(contrast < 0.05):.0%} |")  # fmt: skip
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="*", default=[50, 200, 2000])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--visibility", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for labels in args.labels:
        scores, classes, seconds = [], [], []
        for seed in range(args.seeds):
            miou, took, per_class = train(labels, args.steps, seed, args.size, args.preset)
            scores.append(miou)
            classes.append(per_class)
            seconds.append(took)
            named = ", ".join(f"{k} {v:.2f}" for k, v in per_class.items())
            print(f"{labels} labelled scenes, seed {seed}: mIoU {miou:.3f} ({took:.0f} s); "
                  f"{named}", flush=True)  # fmt: skip
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        means = [statistics.mean(c[name] for c in classes) for name in STREET_CLASSES]
        rows.append(
            f"| {args.size} | {args.preset} | {args.steps} | {labels} | "
            f"{statistics.mean(scores):.3f} | {spread:.3f} | {len(scores)} | "
            + " | ".join(f"{m:.2f}" for m in means)
            + f" | {statistics.mean(seconds):.0f} |"
        )
    lines = [
        "# Street scenes: held-out mIoU against labelled scenes",
        "",
        f"`python benchmarks/streets_calibration.py {' '.join(sys.argv[1:])}`",
    ]
    if rows:
        lines += [
            "",
            f"U-Net, batch {BATCH}, CE + Dice, Adam 1e-3 with cosine decay, geometric "
            "augmentation, scored on the 200 test scenes (8 classes); per-class IoU and mIoU "
            "are means over seeds, s/run the training time.",
            "",
            "| size | preset | steps | labelled scenes | mIoU | sd | seeds | "
            + " | ".join(STREET_CLASSES)
            + " | s/run |",
            "|" + "---|" * (8 + len(STREET_CLASSES)),
            *rows,
        ]
    if args.visibility:
        lines += ["", *visibility(args.size, args.visibility)]
    with open(args.out, "w") as file:
        file.write("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
