"""Size, latency and parity of every export of three models at a realistic size, in one run.

Usage:
    python benchmarks/export_bench.py [--size 256] [--repeats 20] [--threads 2]

For a U-Net and a DeepLabV3+ ("light" backbone, no download) at ``--size`` and the
paper's 64x64 DCGAN generator (at 256x256 its widths reach 4096 channels, 750 MB): size
on disk and median single-image latency of Keras (eager call and compiled
``predict_on_batch``), TFLite float32 / float16 / int8 (ai-edge-litert, XNNPACK) and ONNX
Runtime, the ratio against eager Keras, and the quality delta (argmax agreement
for the segmenters, PSNR for the generator). The models have random weights (He scale,
as in the export tests); int8 is calibrated on 32 preprocessed shapes images or latent
vectors. Writes benchmarks/results/export_bench.md.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import export  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "export_bench.md")


def he_weights(model, seed=0):
    """Kernels from N(0, 2/fan_in) so that outputs have a realistic spread, and biases from
    N(0, 0.01^2): trained biases are never all zero, and the TFLite converter drops an
    all-zero bias, after which it cannot fuse a following ReLU into TRANSPOSE_CONV (an int8
    RELU that XNNPACK does not take); untrained zero biases would time a graph no trained
    model has."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if weight.path.endswith("kernel") and len(weight.shape) >= 2:
            fan_in = int(np.prod(weight.shape[:-1]))
            weight.assign(rng.normal(0, np.sqrt(2 / fan_in), weight.shape).astype("float32"))
        elif weight.path.endswith("bias") and weight.trainable:
            weight.assign(rng.normal(0, 0.01, weight.shape).astype("float32"))
    return model


def median_ms(function, repeats):
    function()  # warm-up (tracing, delegate set-up)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def bench_model(label, model, samples, directory, args):
    rows = []
    first = samples[:1]
    eager = median_ms(lambda: model(first, training=False), args.repeats)
    compiled = median_ms(lambda: model.predict_on_batch(first), args.repeats)
    rows.append((label, "Keras (eager call)", None, eager, None))
    rows.append((label, "Keras (predict_on_batch)", None, compiled, None))
    artifacts = {}
    for quantization in (None, "float16", "int8"):
        path = os.path.join(directory, f"{label}_{quantization}.tflite")
        export.to_tflite(model, path, quantization, representative_data=samples)
        artifacts[f"TFLite {quantization or 'float32'}"] = path
    artifacts["ONNX Runtime"] = export.to_onnx(model, os.path.join(directory, f"{label}.onnx"))
    for name, path in artifacts.items():
        report = export.verify(model, path, samples[:8])
        runner = export.ArtifactRunner(path, num_threads=args.threads)
        named = {runner.input_names[0]: first}
        latency = median_ms(lambda: runner.run_one(named), args.repeats)
        quality = (
            f"argmax agreement {report['argmax_agreement']:.4f}"
            if "argmax_agreement" in report
            else f"PSNR {report['psnr_db']:.1f} dB"
        )
        rows.append((label, name, report["size_bytes"], latency, quality))
    return rows, eager


def parse_arguments(description):
    """``--size`` (256), ``--repeats`` (20) and ``--threads`` (2) of the export benchmarks."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def main():
    """Builds the three models, exports every way, prints and writes the table."""
    args = parse_arguments(__doc__.splitlines()[0])
    size = args.size
    images = np.stack([keras_segen.data.shapes_example(i, size)[0] for i in range(32)]).astype(
        "float32"
    )
    latents = np.random.default_rng(0).normal(size=(32, 128)).astype("float32")
    models = [
        ("unet", he_weights(keras_segen.unet((size, size, 3), 4, filters=16)), images),
        ("deeplabv3_plus", he_weights(keras_segen.deeplabv3_plus((size, size, 3), 4)), images),
        (
            "dcgan_generator",
            he_weights(keras_segen.dcgan_generator(128, (64, 64, 3))),
            latents,
        ),
    ]
    lines = [
        "# Export benchmark",
        "",
        f"{size}x{size} inputs (DCGAN: latent 128 -> 64x64x3, the paper's size), batch 1, "
        f"median of {args.repeats} runs on this machine's CPU, TFLite/ONNX with "
        f"{args.threads} threads. Random He-scaled weights; int8 calibrated on 32 samples; "
        "quality against Keras on 8 samples.",
        "",
        "| model | runtime | size (MB) | latency (ms) | vs eager Keras | quality vs Keras |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as directory:
        for label, model, samples in models:
            rows, eager = bench_model(label, model, samples, directory, args)
            for name, runtime, size_bytes, latency, quality in rows:
                megabytes = f"{size_bytes / 1e6:.2f}" if size_bytes else "-"
                lines.append(
                    f"| {name} | {runtime} | {megabytes} | {latency:.2f} | "
                    f"{eager / latency:.2f}x | {quality or '-'} |"
                )
    publish(lines, RESULTS)


if __name__ == "__main__":
    main()
