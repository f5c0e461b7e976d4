"""Classical baselines against the quickstart U-Net on the same held-out shapes images.

Usage:
    keras-segen quickstart --out runs/quickstart      # once, about 5 minutes on a CPU
    python benchmarks/classical_baselines.py --run runs/quickstart

Each classical output becomes a label map by giving each cluster / region the class that
covers most of it in the ground truth (``classical.majority_classes``): an oracle mapping
that flatters the baselines, so the comparison is an upper bound for them. Scores are the
same streaming mean IoU as the learned models. Writes
benchmarks/results/classical_baselines.md.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import classical, metrics  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "classical_baselines.md")
NUM_CLASSES = 4


def methods():
    """name -> function(images) returning cluster / region ids."""
    return {
        "k-means colours (k=4)": lambda x: classical.kmeans_segmentation(x, 4),
        "k-means colours (k=8)": lambda x: classical.kmeans_segmentation(x, 8),
        "SLIC superpixels (64)": lambda x: classical.slic_superpixels(x, 64),
        "Canny regions": lambda x: classical.edge_regions(classical.canny_edges(x, sigma=1.0)),
        "Sobel regions (>0.5)": lambda x: classical.edge_regions(classical.sobel_edges(x) > 0.5),
    }


def main():
    """Scores every baseline and the run's U-Net; prints and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/quickstart")
    args = parser.parse_args()
    with open(os.path.join(args.run, "config.json")) as file:
        config = json.load(file)
    test = keras_segen.data.load_segmentation(
        "shapes", "test", config["image_size"], 20, num_examples=config["validation_examples"],
        seed=config["seed"],
    )  # fmt: skip
    unet = keras.models.load_model(os.path.join(args.run, "best.keras"), compile=False)
    rows = []
    for name, method in methods().items():
        metric = metrics.MeanIoU(NUM_CLASSES)
        start = time.perf_counter()
        for images, masks in test:
            labels = classical.majority_classes(method(images), masks, NUM_CLASSES)
            metric.update_state(masks, keras.ops.one_hot(labels, NUM_CLASSES))
        rows.append((name, float(metric.result()), time.perf_counter() - start))
    metric = metrics.MeanIoU(NUM_CLASSES)
    start = time.perf_counter()
    for images, masks in test:
        metric.update_state(masks, unet(images, training=False))
    rows.append(("quickstart U-Net (learned, no oracle)", float(metric.result()),
                 time.perf_counter() - start))  # fmt: skip
    count = config["validation_examples"] or 200
    lines = [
        "# Classical baselines vs the quickstart U-Net",
        "",
        f"{count} held-out shapes images at {config['image_size']}x{config['image_size']}, "
        "4 classes. Baselines are mapped to classes with the ground-truth majority of each "
        "cluster/region (an oracle: an upper bound for them).",
        "",
        "| method | mean IoU | seconds |",
        "|---|---|---|",
        *(f"| {name} | {score:.4f} | {seconds:.1f} |" for name, score, seconds in rows),
    ]
    publish(lines, RESULTS)


if __name__ == "__main__":
    main()
