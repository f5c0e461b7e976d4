"""How far few labels are from many on the embedded street scenes: a U-Net trained on N
labelled scenes at the benchmark budget, scored on 200 held-out scenes. Writes
benchmarks/results/streets_calibration.md.

The budget: 64x64 scenes, the U-Net's ``small`` preset, batch 16, geometric augmentation,
Adam 1e-3 with a cosine decay, the same number of steps whatever N (N labelled images
repeated), so that only the labels differ. The target of issue #26: below 0.6 mIoU with
50 labelled scenes, above 0.8 with 2,000.

    python benchmarks/streets_calibration.py [--labels 50 200 2000] [--steps 1500] [--seeds 1]
"""

import argparse
import os
import statistics
import time

import keras
import numpy as np

import keras_segen
from keras_segen.data.street_drawing import STREET_CLASSES

SIZE, BATCH = 64, 16


def held_out_miou(model, seed):
    """Mean IoU and per-class IoU on the 200 test scenes."""
    test = keras_segen.data.load_segmentation("streets", split="test", image_size=SIZE,
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


def train(labels, steps, seed):
    """A U-Net trained for ``steps`` steps on ``labels`` scenes; returns (mIoU, seconds,
    per-class IoU)."""
    keras.utils.set_random_seed(seed)
    data = keras_segen.data.load_segmentation(
        "streets", image_size=SIZE, batch_size=BATCH, num_examples=labels, seed=seed,
        augment="geometric",
    ).repeat()  # fmt: skip
    model = keras_segen.get_model("unet", "small", input_shape=(SIZE, SIZE, 3),
                                  num_classes=len(STREET_CLASSES))  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, steps)
    model.compile(keras.optimizers.Adam(schedule), keras_segen.losses.CEDiceLoss())
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps // 10, epochs=10, verbose=0)
    seconds = time.perf_counter() - start
    miou, metric = held_out_miou(model, seed)
    return miou, seconds, per_class_iou(metric)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[50, 200, 2000])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for labels in args.labels:
        scores = []
        for seed in range(args.seeds):
            miou, seconds, classes = train(labels, args.steps, seed)
            scores.append(miou)
            print(f"{labels} labelled scenes, seed {seed}: mIoU {miou:.3f} ({seconds:.0f} s); "
                  + ", ".join(f"{k} {v:.2f}" for k, v in classes.items()), flush=True)  # fmt: skip
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        rows.append(f"| {labels} | {statistics.mean(scores):.3f} | {spread:.3f} | {len(scores)} |")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "streets_calibration.md")  # fmt: skip
    with open(out, "w") as file:
        file.write(
            "# Street scenes: held-out mIoU against labelled scenes\n\n"
            f"`python benchmarks/streets_calibration.py --labels {' '.join(map(str, args.labels))}"
            f" --steps {args.steps} --seeds {args.seeds}`: U-Net `small`, {SIZE}x{SIZE}, batch "
            f"{BATCH}, {args.steps} steps, scored on the 200 test scenes (8 classes).\n\n"
            "| labelled scenes | mIoU | sd | seeds |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    print("wrote", out)


if __name__ == "__main__":
    main()
