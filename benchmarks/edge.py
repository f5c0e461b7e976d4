"""Every segmentation family on the edge: latency, size, agreement and XNNPACK delegation.

Usage:
    python benchmarks/edge.py [--size 256] [--repeats 20] [--threads 2]

For the ``edge`` preset of FCN, U-Net, SegNet, DeepLabV3+ and ReSeg at ``--size`` x
``--size``, batch 1: median latency of Keras (eager call and compiled
``predict_on_batch``) and of TFLite float32, float16 and int8 (ReSeg's sweeps unrolled,
see ``export.convert.unrolled``) in the preferred TFLite runtime with ``--threads``
threads; file size; argmax agreement with Keras on 8 images; and how XNNPACK takes each
file (partitions and the share of operators it runs, from ``export.inspect``), with the
operators left on TFLite kernels. The models have random He-scaled weights and small
random biases (``export_bench.he_weights``; an all-zero bias changes what the converter
fuses): latency and delegation then match a trained model's, agreement does not
(``int8_accuracy.py`` measures it on trained models).

A second table times single operators (four of a kind in a row, 128x128 maps) in float32
and int8: the int8 speed-up each family can reach is bounded by its mix of them. A third
times every generation model's float32 and int8 exports. Writes benchmarks/results/edge.md.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from export_bench import he_weights, median_ms, parse_arguments  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import export  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "edge.md")
# (row label, model, options over the edge preset): SegNet also with mask unpooling.
FAMILIES = (
    ("fcn", "fcn", {}),
    ("unet", "unet", {}),
    ("segnet", "segnet", {}),
    ("segnet unpooling='mask'", "segnet", {"unpooling": "mask"}),
    ("deeplabv3_plus", "deeplabv3_plus", {}),
    ("reseg", "reseg", {}),
)


def family_rows(label, name, options, images, directory, args):
    """Table rows of model ``name`` (its ``edge`` preset with ``options``) under ``label``,
    and its int8 over float32 TFLite speed-up."""
    model = he_weights(
        keras_segen.get_model(name, preset="edge", input_shape=(args.size, args.size, 3), **options)
    )
    first = images[:1]
    eager = median_ms(lambda: model(first, training=False), args.repeats)
    compiled = median_ms(lambda: model.predict_on_batch(first), args.repeats)
    rows = [
        (label, "Keras eager", "-", eager, "-", "-", "-"),
        (label, "Keras predict_on_batch", "-", compiled, "-", "-", "-"),
    ]
    latency = {}
    for quantization in (None, "float16", "int8"):
        path = os.path.join(directory, f"{name}{len(options)}_{quantization}.tflite")
        export.to_tflite(model, path, quantization, representative_data=images)
        report = export.verify(model, path, images[:8])
        runner = export.ArtifactRunner(path, num_threads=args.threads)
        named = {runner.input_names[0]: first}
        latency[quantization] = median_ms(lambda: runner.run_one(named), args.repeats)
        xnnpack = export.inspect(path)["xnnpack"]
        left = ", ".join(f"{op} x{n}" for op, n in xnnpack["undelegated_ops"].items()) or "-"
        rows.append((
            label, f"TFLite {quantization or 'float32'}", f"{report['size_bytes'] / 1e6:.2f}",
            latency[quantization], f"{report['argmax_agreement']:.4f}",
            f"{xnnpack['partitions']} / {xnnpack['delegated_share']:.0%}", left,
        ))  # fmt: skip
    return rows, latency[None] / latency["int8"], runner.runtime


def _stack(layer_factory, count=4):
    def build(x):
        for _ in range(count):
            x = layer_factory()(x)
        return x

    return build


def _unpool(x):
    for _ in range(2):
        pooled, indices = keras_segen.layers.MaxPoolingWithArgmax2D()(x)
        x = keras_segen.layers.MaxUnpooling2D()([pooled, indices])
    return x


def _mask_unpool(x):
    for _ in range(2):
        pooled, mask = keras_segen.layers.MaxPoolingWithMask2D()(x)
        x = keras_segen.layers.MaskUnpooling2D()([pooled, mask])
    return x


def operator_cases(width):
    """``(label, input size, builder)`` of the operators the families are made of."""
    layers = keras.layers
    return [
        (f"3x3 conv, {width} ch", 128,
         _stack(lambda: layers.Conv2D(width, 3, padding="same", activation="relu"))),
        (f"1x1 conv, {width} ch", 128,
         _stack(lambda: layers.Conv2D(width, 1, activation="relu"))),
        (f"3x3 depthwise conv, {width} ch", 128,
         _stack(lambda: layers.DepthwiseConv2D(3, padding="same", activation="relu"))),
        (f"3x3 stride-2 transposed conv + ReLU, {width} ch", 64,
         _stack(lambda: layers.Conv2DTranspose(width, 3, 2, "same", activation="relu"), 1)),
        (f"the same without bias, {width} ch", 64,
         _stack(lambda: layers.Conv2DTranspose(width, 3, 2, "same", activation="relu",
                                               use_bias=False), 1)),
        (f"2x bilinear resize, {width} ch", 64,
         _stack(lambda: layers.UpSampling2D(2, interpolation="bilinear"), 1)),
        (f"SegNet max-pool + unpool (x2), {width} ch", 128, _unpool),
        (f"the same by mask (unpooling='mask'), {width} ch", 128, _mask_unpool),
    ]  # fmt: skip


def float_and_int8_ms(model, samples, directory, args):
    """Median latency of ``model``'s float32 and int8 TFLite exports (``samples``: one array
    per input, also the int8 calibration data)."""
    names = [export.convert.input_name(tensor, i) for i, tensor in enumerate(model.inputs)]
    first = dict(zip(names, (part[:1] for part in samples)))
    times = []
    for quantization in (None, "int8"):
        path = os.path.join(directory, f"{model.name}_{quantization}.tflite")
        calibration = samples if len(samples) > 1 else samples[0]
        export.to_tflite(model, path, quantization, representative_data=calibration)
        runner = export.ArtifactRunner(path, num_threads=args.threads)
        times.append(median_ms(lambda: runner.run_one(first), args.repeats))
    print(f"{model.name}: int8 / float32 speed-up {times[0] / times[1]:.2f}x")
    return times


def operator_rows(directory, args):
    """``(operator, float32 ms, int8 ms)`` for the operators of ``operator_cases``."""
    rng = np.random.default_rng(0)
    rows = []
    for width in (16, 64):
        for label, size, build in operator_cases(width):
            inputs = keras.Input((size, size, width))
            model = he_weights(keras.Model(inputs, build(inputs)))
            samples = [rng.uniform(0, 1, (16, size, size, width)).astype("float32")]
            rows.append((label, *float_and_int8_ms(model, samples, directory, args)))
    return rows


def generation_rows(directory, args):
    """``(model, input shapes, float32 ms, int8 ms)`` of every generation model at its
    builder's default size (random He-scaled weights)."""
    rng = np.random.default_rng(0)
    rows = []
    for name in keras_segen.list_models("generation"):
        model = he_weights(keras_segen.get_model(name))
        samples = []
        for tensor in model.inputs:
            shape = (16, *tensor.shape[1:])
            if "int" in str(tensor.dtype):
                samples.append((np.arange(16) % 3).astype("int32"))
            elif len(shape) == 2:
                samples.append(rng.normal(size=shape).astype("float32"))
            else:
                samples.append(rng.uniform(-1, 1, shape).astype("float32"))
        shapes = ", ".join(
            "x".join(map(str, tensor.shape[1:])) or "label" for tensor in model.inputs
        )
        rows.append((name, shapes, *float_and_int8_ms(model, samples, directory, args)))
    return rows


def main():
    """Builds the families (and SegNet with mask unpooling), exports and times them, prints
    and writes the tables."""
    args = parse_arguments(__doc__.splitlines()[0])
    images = np.stack([keras_segen.data.shapes_example(i, args.size)[0] for i in range(32)]).astype(
        "float32"
    )
    rows, speedups = [], {}
    with tempfile.TemporaryDirectory() as directory:
        for label, name, options in FAMILIES:
            family, speedups[label], runtime = family_rows(
                label, name, options, images, directory, args
            )
            rows.extend(family)
            print(f"{label}: int8 / float32 TFLite speed-up {speedups[label]:.2f}x")
        operators = operator_rows(directory, args)
        generators = generation_rows(directory, args)
    lines = [
        "# Segmentation families on the edge",
        "",
        f"`edge` presets at {args.size}x{args.size}, batch 1, median of {args.repeats} runs "
        f"on this machine's CPU; TFLite in {runtime} with {args.threads} threads (XNNPACK). "
        "Random He-scaled weights: agreement is with the float Keras model on 8 images and "
        "is not a trained-model figure. XNNPACK column: partitions / share of operators "
        "delegated; the last column lists the operators left on TFLite kernels.",
        "",
        "| model | runtime | size (MB) | latency (ms) | agreement | XNNPACK | not delegated |",
        "|---|---|---|---|---|---|---|",
        *(f"| {m} | {r} | {s} | {t:.2f} | {a} | {x} | {left} |" for m, r, s, t, a, x, left in rows),
        "",
        "int8 over float32 TFLite speed-up: "
        + ", ".join(f"{name} {value:.2f}x" for name, value in speedups.items())
        + ".",
        "",
        "## Operators in float32 and int8",
        "",
        "Four of each in a row (one transposed conv, one resize; two SegNet pool + unpool "
        f"pairs) on a 128x128 map (transposed conv and resize: 64x64 in), batch 1, "
        f"{args.threads} threads, median of {args.repeats} runs.",
        "",
        "| operator | float32 (ms) | int8 (ms) | int8 speed-up |",
        "|---|---|---|---|",
        *(f"| {label} | {f32:.2f} | {i8:.2f} | {f32 / i8:.2f}x |" for label, f32, i8 in operators),
        "",
        "## Generation models in float32 and int8",
        "",
        "Every registered generation model at its builder's default size, random He-scaled "
        f"weights, batch 1, {args.threads} threads, median of {args.repeats} runs.",
        "",
        "| model | inputs | float32 (ms) | int8 (ms) | int8 speed-up |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {shapes} | {f32:.2f} | {i8:.2f} | {f32 / i8:.2f}x |"
            for name, shapes, f32, i8 in generators
        ),
    ]
    publish(lines, RESULTS)


if __name__ == "__main__":
    main()
