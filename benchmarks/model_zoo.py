"""Parameters and CPU latency of every registered segmentation model at its paper widths.

Usage:
    python benchmarks/model_zoo.py [--size 256] [--runs 10] [--threads 0] [--out FILE]

Prints (and with ``--out`` writes) a Markdown table: parameters, batch-1 latency (median
and p90 of ``--runs`` calls after two warm-up calls, compiled with ``tf.function``) and
images per second.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_segen  # noqa: E402

# Configurations as the papers describe them (DeepLabV3+ with the MobileNetV2 backbone it
# reports for mobile use); every other argument keeps its default.
CONFIGS = {
    "fcn": dict(variant="8s"),
    "unet": dict(),
    "segnet": dict(),
    "deeplabv3_plus": dict(backbone="mobilenetv2"),
    "reseg": dict(),
}


def measure(name, size, runs, num_classes=21):
    """Returns (parameters, median seconds, p90 seconds) for one model."""
    model = keras_segen.get_model(
        name, input_shape=(size, size, 3), num_classes=num_classes, **CONFIGS.get(name, {})
    )
    forward = tf.function(lambda x: model(x, training=False))
    image = tf.constant(np.random.default_rng(0).random((1, size, size, 3), dtype="float32"))
    for _ in range(2):
        forward(image).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        forward(image).numpy()
        times.append(time.perf_counter() - start)
    return model.count_params(), float(np.median(times)), float(np.percentile(times, 90))


def main():
    """Measures every registered segmentation model and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all)")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    lines = [
        f"CPU, batch 1, {args.size}x{args.size}x3, 21 classes, {os.cpu_count()} cores",
        "",
        "| model | parameters | median ms | p90 ms | images/s |",
        "|---|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for name in keras_segen.list_models("segmentation"):
        params, median, p90 = measure(name, args.size, args.runs)
        lines.append(
            f"| {name} | {params:,} | {median * 1e3:.0f} | {p90 * 1e3:.0f} | {1 / median:.1f} |"
        )
        print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as file:
            file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
