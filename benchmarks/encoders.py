"""Pretrained-encoder families under U-Net, FPN and DeepLabV3+: size, work, latency on the CPU
in Keras, TFLite float32 / int8 and segmentation_models.pytorch (PyTorch eager, ONNX Runtime).

Usage:
    python benchmarks/encoders.py [--encoders mobilenetv2,resnet50,...]
        [--decoders unet,fpn,deeplabv3_plus] [--rounds 3] [--repeats 5] [--size 256]
        [--threads 2] [--train-steps 200] [--train-size 128] [--learning-rate 1e-3]
        [--smoke] [--out FILE]

For every encoder (Keras Applications names, ``keras_segen.list_backbones()``) x decoder at
``--size`` x ``--size``, 4 classes, batch 1:

- trainable parameters, and multiply-adds counted from the layer shapes of the Keras graph
  (``Conv2D`` incl. groups, ``DepthwiseConv2D``, ``SeparableConv2D``, ``Conv2DTranspose``,
  ``Dense``; nested encoder models walked node by node; no element-wise, normalisation,
  pooling or resize work): GMACs, GFLOPs = 2 x GMACs;
- with ``--train-steps`` > 0 the same model at ``--train-size`` is trained that many steps
  on the ``shapes`` training split (cross-entropy, Adam at ``--learning-rate`` 1e-3, batch
  8, BatchNorm momentum 0.9) and its weights are copied into the ``--size`` model (all
  layers are size-free); otherwise random He-scaled weights (``export_bench.he_weights``);
- TFLite float32 and int8 (calibrated on 16 training images) with ``keras_segen.export``,
  the share of operators XNNPACK takes (``export.inspect``), and the int8 argmax agreement
  with Keras (plus mIoU of both against the masks when trained) on 16 test images;
- the same encoder x decoder in segmentation_models.pytorch 0.6.0 (``encoders_smp.py``, in
  the SMP virtual environment, a separate long-lived process: TensorFlow and PyTorch never
  share one): trainable parameters, multiply-adds of the same layer kinds, PyTorch eager
  and ONNX Runtime.

Latency: in each of ``--rounds`` rounds every model is timed by every contender in turn,
A Keras (the model called in a ``tf.function``, the graph ``predict_on_batch`` runs), B TFLite
float32, C TFLite int8 (ai-edge-litert, XNNPACK), D SMP eager, E ONNX Runtime, each the
median of ``--repeats`` calls after a warm-up; the table gives the median over rounds.
Every runtime gets ``--threads`` intra-op threads and one inter-op thread. ``--smoke`` runs
one small encoder x U-Net at 64x64 in seconds and writes nowhere. Writes
benchmarks/results/encoders.md.

``--rounds 0`` times nothing and starts no SMP process: sizes, exports and the int8 quality
only, the form in which the trained int8 figures are taken (``--rounds 0 --train-steps 200``;
benchmarks/results/encoders_int8.md gathers such runs).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "encoders.md")
SMP_PYTHON = os.environ.get("SMP_PYTHON", "/work/smp-venv/bin/python")
DEFAULT_ENCODERS = (
    "mobilenetv2,mobilenetv3large,mobilenetv3small,efficientnetb0,efficientnetb3,"
    "efficientnetv2b0,resnet50,resnet50v2,densenet121,convnexttiny,xception,vgg16"
)
DECODERS = ("unet", "fpn", "deeplabv3_plus")
CLASSES = 4  # background + the three shapes
CALIBRATION = 16
TEST = 16
CONTENDERS = ("keras", "tflite_fp32", "tflite_int8", "smp_eager", "ort")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", default=DEFAULT_ENCODERS)
    parser.add_argument("--decoders", default=",".join(DECODERS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--train-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    if args.smoke:  # one small encoder x U-Net unless --encoders / --decoders say otherwise
        if args.encoders == DEFAULT_ENCODERS:
            args.encoders = "mobilenetv2"
        if args.decoders == ",".join(DECODERS):
            args.decoders = "unet"
        args.size = args.train_size = 64
        args.rounds, args.repeats, args.train_steps, args.out = 2, 2, 4, None
    return args


ARGS = parse_arguments()

import tensorflow as tf  # noqa: E402

# Before any TensorFlow work: the thread pools are fixed once the runtime starts.
tf.config.threading.set_intra_op_parallelism_threads(ARGS.threads)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from export_bench import he_weights  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import export  # noqa: E402
from keras_segen.data import load_segmentation  # noqa: E402

# ---------------------------------------------------------------- builders and counting


def builder(decoder):
    """``(input_shape, backbone) -> model`` for ``decoder``, or the reason it is missing."""
    if decoder == "unet":
        return lambda shape, backbone: keras_segen.unet(shape, num_classes=CLASSES,
                                                        backbone=backbone)  # fmt: skip
    if decoder == "deeplabv3_plus":
        return lambda shape, backbone: keras_segen.deeplabv3_plus(
            shape, CLASSES, backbone=backbone, output_stride=16
        )
    if decoder == "fpn":
        try:
            from keras_segen.models.segmentation.fpn import fpn
        except ImportError as error:
            return f"not yet ({error})"
        return lambda shape, backbone: fpn(shape, CLASSES, backbone=backbone)
    raise ValueError(f"unknown decoder {decoder!r}")


def _shape(tensor):
    return tuple(int(d) for d in tensor.shape[1:])


def layer_macs(layer, inputs, outputs):
    """Multiply-adds of one call of ``layer`` (batch 1) from its input and output shapes."""
    layers = keras.layers
    out = _shape(outputs[0])
    if isinstance(layer, layers.SeparableConv2D):
        k = int(np.prod(layer.kernel_size))
        cin = _shape(inputs[0])[-1]
        spatial = int(np.prod(out[:-1]))
        return (
            spatial * k * cin * layer.depth_multiplier
            + spatial * cin * layer.depth_multiplier * out[-1]
        )
    if isinstance(layer, layers.DepthwiseConv2D):
        return int(np.prod(out)) * int(np.prod(layer.kernel_size))
    if isinstance(layer, layers.Conv2DTranspose):
        source = _shape(inputs[0])
        return int(np.prod(source)) * int(np.prod(layer.kernel_size)) * out[-1]
    if isinstance(layer, layers.Conv2D):
        cin = _shape(inputs[0])[-1] // layer.groups
        return int(np.prod(out)) * int(np.prod(layer.kernel_size)) * cin
    if isinstance(layer, layers.Dense):
        return int(np.prod(out)) * _shape(inputs[0])[-1]
    if getattr(layer, "kernel", None) is not None:
        print(f"warning: {type(layer).__name__} {layer.name} has a kernel and is not counted")
    return 0


def keras_macs(model):
    """Multiply-adds of ``model`` at batch 1, walking its graph node by node (nested models
    recursively, at their own built shapes)."""
    if not hasattr(model, "_nodes_by_depth"):  # a Sequential: its built functional graph
        functional = getattr(model, "_functional", None)
        if functional is not None:
            return keras_macs(functional)
        return sum(layer_macs(layer, [layer.input], [layer.output]) for layer in model.layers)
    total = 0
    for nodes in model._nodes_by_depth.values():
        for node in nodes:
            layer = node.operation
            if layer is model or node.is_input:
                continue
            if isinstance(layer, keras.Model):
                total += keras_macs(layer)
            else:
                total += layer_macs(layer, node.input_tensors, node.outputs)
    return total


def trainable_params(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# ---------------------------------------------------------------- training and export


def shapes_arrays(split, size, count, seed=0):
    dataset = load_segmentation("shapes", split, size, count, num_examples=count, seed=seed)
    images, masks = next(iter(dataset))
    return np.asarray(images, "float32"), np.asarray(masks)


def trained_into(model, build, backbone, args):
    """Trains the same architecture at ``--train-size`` and copies its weights into
    ``model``; returns the seconds it took."""
    start = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same initial weights and batches in every run
    small = build((args.train_size, args.train_size, 3), backbone)
    for layer in small._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    small.compile(
        keras.optimizers.Adam(args.learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    data = load_segmentation(
        "shapes", "train", args.train_size, 8, num_examples=min(512, 8 * args.train_steps),
        shuffle=True,
    ).repeat()  # fmt: skip
    small.fit(data, steps_per_epoch=args.train_steps, epochs=1, verbose=0)
    model.set_weights(small.get_weights())
    return time.perf_counter() - start


def export_pair(model, key, calibration, test, directory, trained):
    """TFLite float32 and int8 files, XNNPACK shares and int8 quality; ``(paths, info)``."""
    paths, info = {}, {}
    images, masks = test
    for quantization in (None, "int8"):
        path = os.path.join(directory, f"{key}_{quantization or 'float32'}.tflite")
        export.to_tflite(model, path, quantization, representative_data=calibration)
        label = quantization or "fp32"
        paths[label] = path
        xnnpack = export.inspect(path)["xnnpack"]
        info[f"xnnpack_{label}"] = xnnpack["delegated_share"]
        info[f"left_{label}"] = xnnpack["undelegated_ops"]
        info[f"mb_{label}"] = os.path.getsize(path) / 1e6
    report = export.verify(model, paths["int8"], images, labels=masks if trained else None)
    info["agreement"] = report["argmax_agreement"]
    info["tflite_runtime"] = report["runtime"]
    info["miou_keras"] = report.get("miou_keras")
    info["miou_int8"] = report.get("miou_artifact")
    return paths, info


# ---------------------------------------------------------------- the SMP process


class SmpProcess:
    """``encoders_smp.py --serve`` in the SMP virtual environment, one JSON line each way."""

    def __init__(self, threads):
        script = os.path.join(HERE, "encoders_smp.py")
        # GNU OpenMP's active spin-wait in torch's 2 threads stalls ~2 s a call when the
        # cores are shared with other busy processes; passive waiting removes the stalls.
        environment = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        self.process = subprocess.Popen(
            [SMP_PYTHON, script, "--serve", "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment,
        )  # fmt: skip

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
        self.process.stdin.flush()
        self.process.wait(timeout=60)


# ---------------------------------------------------------------- main


def prepare(encoder, decoder, data, directory, smp, args):
    """Everything but the timings of one pair: a dict with its Keras callables and files."""
    key = f"{encoder}_{decoder}"
    row = {"encoder": encoder, "decoder": decoder}
    build = builder(decoder)
    if isinstance(build, str):
        row["missing"] = build
        return row
    model = build((args.size, args.size, 3), encoder)
    row["params"] = trainable_params(model)
    try:
        row["gmacs"] = keras_macs(model) / 1e9
    except Exception as error:  # a graph the walk does not know: the table says "-"
        print(f"{key}: multiply-adds not counted ({type(error).__name__}: {error})")
        row["gmacs"] = None
    trained = args.train_steps > 0
    if trained:
        row["train_s"] = trained_into(model, build, encoder, args)
    else:
        he_weights(model)
    paths, info = export_pair(model, key, data["calibration"], data["test"], directory, trained)
    row.update(info)
    if args.rounds > 0:  # what the timing rounds call
        call = tf.function(lambda x: model(x, training=False))
        first = tf.constant(data["test"][0][:1])
        row["run"] = {"keras": lambda: call(first).numpy()}
        for label, contender in (("fp32", "tflite_fp32"), ("int8", "tflite_int8")):
            runner = export.ArtifactRunner(paths[label], num_threads=args.threads)
            named = {runner.input_names[0]: data["test"][0][:1]}
            row["run"][contender] = (lambda r, n: lambda: r.run_one(n))(runner, named)
    if smp is not None:
        answer = smp.ask(cmd="build", key=key, encoder=encoder, decoder=decoder,
                         size=args.size, classes=CLASSES)  # fmt: skip
        if answer.pop("ok"):
            row["smp"] = answer
        else:
            row["smp_error"] = answer["error"]
    row["times"], row["fastest"] = {name: [] for name in CONTENDERS}, {}
    print(f"{key}: prepared {json.dumps({k: v for k, v in row.items() if k != 'run'})}",
          flush=True)  # fmt: skip
    return row


def call_times(function, repeats):
    """Milliseconds of ``repeats`` calls after a warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def time_round(row, smp, args):
    """One round: every contender in turn (A..E), the median of ``--repeats`` calls each."""
    for contender in CONTENDERS:
        if contender in row["run"]:
            times = call_times(row["run"][contender], args.repeats)
        elif "smp" in row:
            runtime = "eager" if contender == "smp_eager" else "ort"
            key = f"{row['encoder']}_{row['decoder']}"
            times = smp.ask(cmd="time", key=key, runtime=runtime, repeats=args.repeats)["times"]
        else:
            continue
        row["times"][contender].append(statistics.median(times))
        row["fastest"][contender] = min(row["fastest"].get(contender, np.inf), *times)


def median(row, contender):
    times = row.get("times", {}).get(contender)
    return statistics.median(times) if times else None


def fmt(value, pattern="{:.1f}"):
    return "-" if value is None else pattern.format(value)


def trained_int8_table(rows, args):
    """Lines of the int8-after-training table (or why there is none)."""
    trained = [r for r in rows if r.get("miou_keras") is not None]
    if not trained:
        return [
            "Not run (`--train-steps 0`): the models have random He-scaled weights, so the "
            "agreement column above is not a trained-model figure."
        ]
    lines = [
        f"Each model trained {args.train_steps} steps at {args.train_size}x"
        f"{args.train_size} (shapes training split, batch 8, Adam 1e-3, cross-entropy, "
        f"BatchNorm momentum 0.9), weights copied into the {args.size}x{args.size} model "
        f"that is exported; int8 calibrated on {CALIBRATION} training images; "
        f"agreement and mIoU on {TEST} test images at {args.size}x{args.size}.",
        "",
        "| encoder | decoder | training (s) | mIoU Keras | mIoU int8 | argmax agreement "
        "| XNNPACK share fp32 / int8 | TFLite fp32 / int8 MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in trained:
        lines.append(
            f"| {row['encoder']} | {row['decoder']} | {row['train_s']:.0f} | "
            f"{row['miou_keras']:.4f} | {row['miou_int8']:.4f} | {row['agreement']:.4f} | "
            f"{row['xnnpack_fp32']:.0%} / {row['xnnpack_int8']:.0%} | "
            f"{row['mb_fp32']:.1f} / {row['mb_int8']:.1f} |"
        )
    return lines


def int8_page(rows, args, started):
    """The page of a ``--rounds 0`` run: no latency, the int8 quality of every pair."""
    runtime = next((r["tflite_runtime"] for r in rows if "tflite_runtime" in r), "-")
    lines = [
        "# Encoders x decoders: int8 TFLite against Keras after a short training",
        "",
        f"Command: `{'nice -n 10 ' if os.nice(0) > 0 else ''}python benchmarks/encoders.py "
        f"{' '.join(sys.argv[1:])}` ({time.strftime('%Y-%m-%d', time.localtime(started))}, "
        f"{(time.time() - started) / 60:.0f} min wall time; nothing timed but training).",
        "",
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, TFLite in {runtime}; "
        f"{os.cpu_count()} CPU cores shared with other work. {CLASSES} classes.",
        "",
        *trained_int8_table(rows, args),
    ]
    failed = [f"- {r['encoder']} x {r['decoder']}: {r['missing']}" for r in rows if "missing" in r]
    if failed:
        lines += ["", "## Pairs that did not run", "", *failed]
    return lines


def tables(rows, args, started, load, loads):
    lines = [
        "# Encoders x decoders: size, work and CPU latency against segmentation_models.pytorch",
        "",
        f"Command: `{'nice -n 10 ' if os.nice(0) > 0 else ''}python benchmarks/encoders.py "
        f"{' '.join(sys.argv[1:])}` "
        f"({time.strftime('%Y-%m-%d', time.localtime(started))}, "
        f"{(time.time() - started) / 60:.0f} min wall time).",
        "",
        f"Machine: {os.cpu_count()} CPU cores shared with other work (load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the start; 1-minute load after each "
        f"timing round: {', '.join(f'{x:.2f}' for x in loads)}), no GPU; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; every runtime with "
        f"{args.threads} intra-op threads and 1 inter-op thread. {args.size}x{args.size}x3 "
        f"input, {CLASSES} classes, batch 1. Latency: median over {args.rounds} interleaved "
        f"rounds (A Keras, B TFLite float32, C TFLite int8, D SMP eager, E ONNX Runtime, "
        f"in turn for each model) of the median of {args.repeats} calls after a warm-up. "
        "Keras = the model called in a `tf.function` (what `predict_on_batch` runs); TFLite "
        f"in {next((r['tflite_runtime'] for r in rows if 'tflite_runtime' in r), '-')} "
        "with XNNPACK; SMP 0.6.0 (torch eager under `inference_mode`, ONNX Runtime CPU, "
        "opset 17 TorchScript export), `encoder_weights=None`, Keras `weights=None`: "
        "latency and work do not depend on the weights.",
        "",
        "GMACs: multiply-adds at batch 1, counted from the layer shapes (Keras: every "
        "`Conv2D`, `DepthwiseConv2D`, `SeparableConv2D`, `Conv2DTranspose`, `Dense` call in "
        "the graph, nested encoders walked node by node; SMP: forward hooks on `Conv2d`, "
        "`ConvTranspose2d`, `Linear`); GFLOPs = 2 x GMACs. Element-wise, normalisation, "
        "pooling and resize work are not counted. Parameters are trainable ones (BatchNorm "
        "moving statistics are not parameters in either).",
        "",
        "| encoder | decoder | params Keras (M) | params SMP (M) | GFLOPs Keras | GFLOPs SMP "
        "| Keras ms | TFLite fp32 ms | TFLite int8 ms | SMP eager ms | ORT ms "
        "| XNNPACK share fp32 / int8 | int8 agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for row in rows:
        name = f"| {row['encoder']} | {row['decoder']} "
        if "missing" in row:
            lines.append(name + f"| {row['missing']} |" + " |" * 11)
            continue
        smp = row.get("smp", {})
        if "smp_error" in row:
            notes.append(f"- SMP {row['encoder']} x {row['decoder']}: {row['smp_error']}")
        values = [
            fmt(row["params"] / 1e6, "{:.2f}"),
            fmt(smp["params"] / 1e6 if smp else None, "{:.2f}"),
            fmt(2 * row["gmacs"] if row["gmacs"] is not None else None, "{:.2f}"),
            fmt(2 * smp["gmacs"] if smp else None, "{:.2f}"),
            *(fmt(median(row, c)) for c in CONTENDERS),
            f"{row['xnnpack_fp32']:.0%} / {row['xnnpack_int8']:.0%}",
            f"{row['agreement']:.4f}",
        ]
        lines.append(name + "| " + " | ".join(values) + " |")
    lines += [
        "",
        "## Ratios (latency of the row's contender over the column's; < 1 = faster)",
        "",
        "| encoder | decoder | TFLite fp32 / Keras | TFLite int8 / Keras | int8 / fp32 "
        "| SMP eager / Keras | ORT / Keras | TFLite fp32 / ORT | TFLite int8 / ORT "
        "| Keras / SMP eager |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    pairs = [("tflite_fp32", "keras"), ("tflite_int8", "keras"), ("tflite_int8", "tflite_fp32"),
             ("smp_eager", "keras"), ("ort", "keras"), ("tflite_fp32", "ort"),
             ("tflite_int8", "ort"), ("keras", "smp_eager")]  # fmt: skip
    geometric = {pair: [] for pair in pairs}
    for row in rows:
        if "missing" in row:
            continue
        cells = []
        for top, bottom in pairs:
            a, b = median(row, top), median(row, bottom)
            if a and b:
                geometric[(top, bottom)].append(a / b)
            cells.append(fmt(a / b if a and b else None, "{:.2f}"))
        lines.append(f"| {row['encoder']} | {row['decoder']} | " + " | ".join(cells) + " |")
    lines.append(
        "| geometric mean | | "
        + " | ".join(
            fmt(float(np.exp(np.mean(np.log(v)))) if v else None, "{:.2f}")
            for v in geometric.values()
        )
        + " |"
    )
    lines += [
        "",
        "## Fastest single call (ms; less sensitive to the other work on the cores)",
        "",
        "| encoder | decoder | Keras | TFLite fp32 | TFLite int8 | SMP eager | ORT |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "fastest" in row:
            cells = [fmt(row["fastest"].get(c)) for c in CONTENDERS]
            lines.append(f"| {row['encoder']} | {row['decoder']} | " + " | ".join(cells) + " |")
    left = [
        f"- {r['encoder']} x {r['decoder']} {label}: "
        + ", ".join(f"{op} x{n}" for op, n in r[f"left_{label}"].items())
        for r in rows
        for label in ("fp32", "int8")
        if r.get(f"left_{label}")
    ]
    if left:
        lines += ["", "## Operators XNNPACK leaves on TFLite kernels", "", *left]
    lines += ["", "## int8 after training", "", *trained_int8_table(rows, args)]
    if notes:
        lines += ["", "## Pairs SMP could not build", "", *notes]
    return lines


def main():
    args = ARGS
    started, load = time.time(), os.getloadavg()
    encoders = [e for e in args.encoders.split(",") if e]
    decoders = [d for d in args.decoders.split(",") if d]
    train = shapes_arrays("train", args.size, CALIBRATION)
    data = {"calibration": train[0], "test": shapes_arrays("test", args.size, TEST, seed=1)}
    smp = SmpProcess(args.threads) if args.rounds > 0 else None
    rows, loads, interrupted = [], [], None
    try:
        with tempfile.TemporaryDirectory() as directory:
            for encoder in encoders:
                for decoder in decoders:
                    try:
                        rows.append(prepare(encoder, decoder, data, directory, smp, args))
                    except Exception as error:  # one failing pair is a row, not the end
                        message = f"failed: {type(error).__name__}: {error}"[:200]
                        print(f"{encoder}_{decoder}: {message}", flush=True)
                        rows.append({"encoder": encoder, "decoder": decoder, "missing": message})
            for round_index in range(args.rounds):
                for row in rows:
                    if "run" in row:
                        time_round(row, smp, args)
                loads.append(os.getloadavg()[0])
                print(f"round {round_index + 1} of {args.rounds} done, load {loads[-1]:.2f}",
                      flush=True)  # fmt: skip
    except KeyboardInterrupt:  # SIGINT: write what was measured so far
        interrupted = f"interrupted after {len(loads)} timing round(s)"
    finally:
        if smp is not None:
            smp.close()
    if args.rounds > 0:
        lines = tables(rows, args, started, load, loads)
    else:
        lines = int8_page(rows, args, started)
    if interrupted:
        lines += ["", f"Run {interrupted}: later rounds and pairs are missing."]
    if args.out:
        publish(lines, args.out)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
