"""Keras Applications encoders under a decoder, exported to float32 and int8 TFLite, run on
tflite-runtime 2.14 (what Raspberry Pi OS, Coral and in-vehicle images ship) and on the
newest ai-edge-litert, both through the device runner (export/runner.py).

Usage:
    python benchmarks/encoder_runtimes.py [--encoders modules|all|NAME,NAME] [--decoder fpn]
        [--size 96] [--venv DIR] [--out FILE]

``--encoders modules`` (the default) takes the smallest network of every
``keras.applications`` module (VGG16, VGG19, ResNet50, ResNet50V2, DenseNet121, MobileNet,
MobileNetV2, MobileNetV3Small, EfficientNetB0, EfficientNetV2B0, ConvNeXtTiny, Xception,
InceptionV3, InceptionResNetV2, NASNetMobile): networks of one module share their layer
kinds, so their operators too. ``all`` takes every network ``keras_segen.list_backbones()``
lists from Keras Applications (the XLarge ConvNeXt alone is a 1.4 GB float32 file).

For each encoder: ``keras_segen.get_model(decoder, backbone=encoder, weights=None)`` at
``--size`` x ``--size`` x 3, 4 classes; float32 and int8 (calibrated on 16 ``streets``
scenes) TFLite through ``keras_segen.export.to_tflite``; 8 other scenes run through
``runner.Model`` on each runtime. The table gives whether each runtime loads and runs the
file, the largest and mean difference between the two runtimes' logits (over the range of
Keras' logits), their argmax agreement, and each runtime's argmax agreement with Keras.
Random He-scaled weights (``weights=None``; no download here): the runtime question does
not depend on the weights.

tflite-runtime 2.14 lives in its own virtual environment (``--venv``, made on first use from
the package registry with this Python, which must be 3.8-3.11). Writes
benchmarks/results/encoder_runtimes.md.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = pathlib.Path(__file__).resolve().parent
RUNNER = HERE.parent / "export" / "runner.py"
RESULTS = HERE / "results" / "encoder_runtimes.md"
DEVICE_PACKAGES = ("tflite-runtime==2.14.0", "numpy<2")
CLASSES = 4
CALIBRATION = 16
TEST = 8
SMALLEST_PER_MODULE = (
    "convnexttiny", "densenet121", "efficientnetb0", "efficientnetv2b0", "inceptionresnetv2",
    "inceptionv3", "mobilenet", "mobilenetv2", "mobilenetv3small", "nasnetmobile", "resnet50",
    "resnet50v2", "vgg16", "vgg19", "xception",
)  # fmt: skip

# Runs each case through runner.Model in whatever Python runs it; one JSON line back.
RUN_CASES = r"""
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("runner", sys.argv[1])
runner = importlib.util.module_from_spec(spec); spec.loader.exec_module(runner)
cases, results = json.loads(sys.argv[2]), {}
for case in cases:
    try:
        model = runner.Model(case["artifact"])
        images = np.load(case["inputs"])
        name = next(iter(model.inputs))
        np.save(case["outputs"], np.concatenate([model(**{name: image[None]}) for image in images]))
        results[case["artifact"]] = [model.runtime, "ok"]
    except Exception as error:
        results[case["artifact"]] = [None, f"{type(error).__name__}: {error}"[:400]]
print(json.dumps(results))
"""


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="modules",
                        help="'modules' (one per keras.applications module), 'all', or names")
    parser.add_argument("--decoder", default="fpn")
    parser.add_argument("--size", type=int, default=96, help="75 is Inception's least")
    parser.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "tflite_2_14"))
    parser.add_argument("--out", default=str(RESULTS))
    return parser.parse_args()  # fmt: skip


def chosen_encoders(option):
    """Encoder names for ``--encoders``."""
    from keras_segen.models.encoders.applications import application_constructors

    if option == "modules":
        return list(SMALLEST_PER_MODULE)
    if option == "all":
        return sorted(application_constructors())
    return option.split(",")


def device_python(venv):
    """The Python of ``venv``, holding tflite-runtime 2.14 and NumPy 1 (made if missing)."""
    python = pathlib.Path(venv) / "bin" / "python"
    probe = [str(python), "-c", "import tflite_runtime"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode:
        if sys.version_info >= (3, 12):
            sys.exit("tflite-runtime 2.14 has wheels for Python 3.8-3.11; run this with one.")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *DEVICE_PACKAGES],
                       check=True)  # fmt: skip
    return python


def run_cases(python, cases, folder, tag):
    """``{artifact: [runtime, "ok" or the error]}``; outputs saved as ``<artifact>.<tag>.npy``."""
    jobs = [{"artifact": c["artifact"], "inputs": c["inputs"],
             "outputs": f"{c['artifact']}.{tag}.npy"} for c in cases]  # fmt: skip
    done = subprocess.run([str(python), "-c", RUN_CASES, str(RUNNER), json.dumps(jobs)],
                          capture_output=True, text=True, cwd=folder)  # fmt: skip
    if done.returncode:
        return {c["artifact"]: [None, done.stderr.strip()[-400:]] for c in cases}
    return json.loads(done.stdout.strip().splitlines()[-1])


def export_encoder(encoder, args, calibration, test, folder):
    """Builds, exports and runs Keras; returns the cases (one per quantization) and info."""
    import keras
    import numpy as np

    import keras_segen
    from keras_segen import export

    keras.utils.set_random_seed(0)
    model = keras_segen.get_model(args.decoder, input_shape=(args.size, args.size, 3),
                                  num_classes=CLASSES, backbone=encoder, weights=None)  # fmt: skip
    logits = np.asarray(model.predict(test, verbose=0))
    np.save(os.path.join(folder, f"{encoder}.keras.npy"), logits)
    inputs = os.path.join(folder, "test.npy")
    cases, info = [], {"params_m": model.count_params() / 1e6}
    for quantization in (None, "int8"):
        label = quantization or "float32"
        path = os.path.join(folder, f"{encoder}_{label}.tflite")
        started = time.perf_counter()
        try:
            export.to_tflite(model, path, quantization, representative_data=calibration)
        except Exception as error:
            info[f"export_{label}"] = f"{type(error).__name__}: {error}"[:400]
            continue
        info[f"seconds_{label}"] = time.perf_counter() - started
        info[f"mb_{label}"] = os.path.getsize(path) / 1e6
        ops = export.inspect(path)["ops"]
        info[f"builtin_{label}"] = all(op.isupper() for op in ops) and "FlexDelegate" not in ops
        cases.append({"artifact": path, "inputs": inputs, "label": label, "encoder": encoder})
    keras.backend.clear_session()
    return cases, info


def compare(case, folder):
    """Differences between the runtimes' outputs and agreement with Keras for one case."""
    import numpy as np

    logits = np.load(os.path.join(folder, f"{case['encoder']}.keras.npy"))
    keras_argmax, scale = logits.argmax(-1), float(np.ptp(logits))
    old, new = (np.load(f"{case['artifact']}.{tag}.npy") for tag in ("old", "new"))
    return {
        "max_diff": float(np.abs(old - new).max()) / scale,
        "mean_diff": float(np.abs(old - new).mean()) / scale,
        "runtimes_agree": float((old.argmax(-1) == new.argmax(-1)).mean()),
        "old_vs_keras": float((old.argmax(-1) == keras_argmax).mean()),
        "new_vs_keras": float((new.argmax(-1) == keras_argmax).mean()),
    }


def scenes(size, count, seed):
    """``count`` street scenes at ``size`` as a float32 array in [0, 1]."""
    import numpy as np

    import keras_segen

    data = keras_segen.data.load_segmentation("streets", image_size=size, batch_size=None,
                                              num_examples=count, seed=seed)  # fmt: skip
    return np.stack([image.numpy() for image, _ in data]).astype("float32")


def runtime_versions(python):
    """``(tflite-runtime, its NumPy, ai-edge-litert, TensorFlow, Keras)`` versions."""
    import ai_edge_litert
    import keras
    import tensorflow as tf

    probe = "import tflite_runtime, numpy; print(tflite_runtime.__version__, numpy.__version__)"
    device = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    old, numpy = device.stdout.split()
    litert = getattr(ai_edge_litert, "__version__", "?")
    return old, numpy, litert, tf.__version__, keras.__version__


def header(args, python, started):
    """The page's title, command, set-up and column header."""
    old, numpy, litert, tensorflow, keras = runtime_versions(python)
    return [
        "# Encoders on the runtimes devices have: tflite-runtime 2.14 against ai-edge-litert",
        "",
        f"Command: `python benchmarks/encoder_runtimes.py --encoders {args.encoders} "
        f"--decoder {args.decoder} --size {args.size}` ({time.strftime('%Y-%m-%d')}, "
        f"{(time.time() - started) / 60:.0f} min).",
        "",
        f"Converted with TensorFlow {tensorflow}, Keras {keras} "
        f"(`keras_segen.export.to_tflite`, built-in ops only); run by export/runner.py on "
        f"tflite-runtime {old} (NumPy {numpy}, its own virtual environment) "
        f"and on ai-edge-litert {litert}, Python "
        f"{platform.python_version()}, {platform.machine()}. {args.decoder} decoder, "
        f"{args.size}x{args.size}x3 input, {CLASSES} classes, random weights; int8 "
        f"calibrated on {CALIBRATION} `streets` scenes; {TEST} other scenes compared.",
        "",
        "Columns: does each runtime load and run the file; largest and mean absolute "
        "difference between the two runtimes' logits, over the range of Keras' logits on the "
        "same scenes; share of pixels whose argmax the two "
        "runtimes agree on; share agreeing with Keras on each runtime (int8 against float "
        "Keras measures quantisation, not the runtime).",
        "",
        "| encoder | params (M) | file | MB | built-in ops | runs on 2.14 | runs on LiteRT "
        "| max diff | mean diff | runtimes agree | 2.14 vs Keras | LiteRT vs Keras |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]


def table(rows, args, python, started):
    """The results page."""
    lines, failures = header(args, python, started), []
    for row in rows:
        info = row["info"]
        for label in ("float32", "int8"):
            if f"export_{label}" in info:
                failures.append(f"- {row['encoder']} {label} export: {info[f'export_{label}']}")
                lines.append(f"| {row['encoder']} | {info['params_m']:.2f} | {label} | - | - "
                             "| - | - | - | - | - | - | - |")  # fmt: skip
                continue
            result = row["results"][label]
            old, new = result["old"], result["new"]
            for runtime, (_, status) in (("2.14", old), ("LiteRT", new)):
                if status != "ok":
                    failures.append(f"- {row['encoder']} {label} on {runtime}: {status}")
            numbers = result.get("compare")
            cells = (
                [f"{numbers['max_diff']:.2g}", f"{numbers['mean_diff']:.2g}",
                 f"{numbers['runtimes_agree']:.4f}",
                 f"{numbers['old_vs_keras']:.4f}", f"{numbers['new_vs_keras']:.4f}"]
                if numbers else ["-"] * 5
            )  # fmt: skip
            lines.append(
                f"| {row['encoder']} | {info['params_m']:.2f} | {label} "
                f"| {info[f'mb_{label}']:.1f} | {'yes' if info[f'builtin_{label}'] else 'NO'} "
                f"| {'yes' if old[1] == 'ok' else 'NO'} | {'yes' if new[1] == 'ok' else 'NO'} "
                f"| {' | '.join(cells)} |"
            )
    lines += ["", "## Failures", ""] + (failures or ["None."])
    return "\n".join(lines) + "\n"


def main():
    args = parse_arguments()
    started = time.time()
    python = device_python(args.venv)
    encoders = chosen_encoders(args.encoders)
    calibration, test = scenes(args.size, CALIBRATION, 0), scenes(args.size, TEST, 1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        import numpy as np

        np.save(os.path.join(folder, "test.npy"), test)
        for encoder in encoders:
            cases, info = export_encoder(encoder, args, calibration, test, folder)
            results = {case["label"]: {} for case in cases}
            old = run_cases(python, cases, folder, "old")
            new = run_cases(sys.executable, cases, folder, "new")
            for case in cases:
                result = results[case["label"]]
                result["old"], result["new"] = old[case["artifact"]], new[case["artifact"]]
                if result["old"][1] == "ok" and result["new"][1] == "ok":
                    result["compare"] = compare(case, folder)
                os.remove(case["artifact"])  # the large ones add up
            rows.append({"encoder": encoder, "info": info, "results": results})
            print(encoder, json.dumps({"info": info, "results": results}), flush=True)
    page = table(rows, args, python, started)
    pathlib.Path(args.out).write_text(page)
    print(page)


if __name__ == "__main__":
    main()
