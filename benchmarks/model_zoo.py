"""Parameters and CPU latency of every registered segmentation model at one of its presets.

Usage:
    python benchmarks/model_zoo.py [--preset paper] [--size 256] [--runs 10] [--threads 0]
                                   [--out FILE]

Each model is built from ``--preset`` (``paper``, ``edge``, ...; a model without it falls
back to its defaults) at ``--size`` x ``--size`` with 21 classes
(``--size 0``: the preset's own input size). Prints (and with ``--out`` writes) a Markdown
table: preset, input, parameters, batch-1 latency (median and p90 of ``--runs`` calls after
two warm-up calls, compiled with ``tf.function``) and images per second.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_segen  # noqa: E402


def model_config(name, preset, size, num_classes=21):
    """``(preset used, builder arguments)`` of one model for the benchmark."""
    entry = keras_segen.model_entry(name)
    chosen = preset if preset in entry.presets else None
    config = entry.config(chosen)
    if size:
        channels = config.get("input_shape", (None, None, 3))[-1]
        config.update(input_shape=(size, size, channels), num_classes=num_classes)
        if config.get("padding") == "valid":  # the paper U-Net needs its own tile size
            config["padding"] = "same"
    return chosen or "defaults", config


def measure(name, config, runs):
    """Returns (parameters, median seconds, p90 seconds) for one model."""
    model = keras_segen.get_model(name, **config)
    forward = tf.function(lambda x: model(x, training=False))
    shape = (1, *model.input.shape[1:])
    image = tf.constant(np.random.default_rng(0).random(shape, dtype="float32"))
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
    parser.add_argument("--preset", default="paper", help="preset to build (default: paper)")
    parser.add_argument("--size", type=int, default=256, help="input side; 0: the preset's")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all)")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    lines = [
        f"CPU, batch 1, preset {args.preset}, {os.cpu_count()} cores",
        "",
        "| model | preset | input | classes | parameters | median ms | p90 ms | images/s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for name in keras_segen.list_models("segmentation"):
        preset, config = model_config(name, args.preset, args.size)
        params, median, p90 = measure(name, config, args.runs)
        size = "x".join(str(d) for d in config["input_shape"])
        lines.append(
            f"| {name} | {preset} | {size} | {config['num_classes']} | {params:,} | "
            f"{median * 1e3:.0f} | {p90 * 1e3:.0f} | {1 / median:.1f} |"
        )
        print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as file:
            file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
