"""Every ``.tflite`` artifact of every registered model a device runs (segmenters and
generators) runs on tflite-runtime 2.14, the runtime devices ship (Raspberry Pi OS, Coral,
in-vehicle Linux images), and gives the outputs of the newest ai-edge-litert; the device
runner works on either runtime.

tflite-runtime 2.14 needs NumPy < 2 and Python 3.8-3.11, so it lives in its own virtual
environment, made once per test session from the package registry with this Python or a
python3.11 ... python3.8 on PATH. Where that cannot be made the tests skip with the reason,
and fail under CI (``CI=true``), so that a green CI run means the check ran.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import keras_segen
from keras_segen import export
from tests.helpers import per_model, sample_inputs

RUNNER = pathlib.Path(__file__).resolve().parents[2] / "export" / "runner.py"
DEVICE_PACKAGES = ("tflite-runtime==2.14.0", "numpy<2")
DEVICE_PYTHONS = ("python3.11", "python3.10", "python3.9", "python3.8")  # with 2.14 wheels
QUANTIZATIONS = (None, "float16", "dynamic", "int8")

# Runs in the device environment: every case through export/runner.py's Model.
DEVICE_SCRIPT = r"""
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("runner", sys.argv[1])
runner = importlib.util.module_from_spec(spec); spec.loader.exec_module(runner)
runtimes = set()
for case in json.loads(sys.argv[2]):
    model = runner.Model(case["artifact"])
    runtimes.add(model.runtime)
    inputs = np.load(case["inputs"])
    count = len(inputs[inputs.files[0]])
    outputs = [model(**{name: inputs[name][i : i + 1] for name in inputs.files})
               for i in range(count)]
    np.save(case["outputs"], np.concatenate(outputs))
print(json.dumps(sorted(runtimes)))
"""


def unavailable(reason):
    """Skips with ``reason``; fails under CI (``CI=true``), where the check must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def base_python():
    """This Python if tflite-runtime 2.14 has wheels for it, else the first of
    ``DEVICE_PYTHONS`` on PATH, else ``None``."""
    if sys.version_info < (3, 12):
        return sys.executable
    return next(filter(None, map(shutil.which, DEVICE_PYTHONS)), None)


@pytest.fixture(scope="session")
def device_python(tmp_path_factory):
    """The Python of a virtual environment holding only tflite-runtime 2.14 and NumPy 1."""
    base = base_python()
    if base is None:
        unavailable(f"tflite-runtime 2.14 needs Python 3.8-3.11; none of {DEVICE_PYTHONS} found")
    folder = tmp_path_factory.mktemp("tflite_runtime_2_14")
    python = folder / "bin" / "python"
    commands = (
        [base, "-m", "venv", str(folder)],
        [str(python), "-m", "pip", "install", "--quiet", *DEVICE_PACKAGES],
    )
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            unavailable(f"could not install {DEVICE_PACKAGES}: {done.stderr[-500:]}")
    return python


def _run_on_device(python, cases):
    result = subprocess.run(
        [str(python), "-c", DEVICE_SCRIPT, str(RUNNER), json.dumps(cases)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# What a device runs: segmenters and generators. Discriminators only train (their float
# exports are checked against Keras in test_export_suite.py); on 2.14 the dynamic-range
# kernels of the confidence discriminator's five strided convolutions differ from LiteRT's
# by 2.7% of its output range on average.
DEPLOYED = [name for name in keras_segen.list_models() if not name.endswith("_discriminator")]
DYNAMIC_MAX = {"spade_generator": 2e-2}


@pytest.mark.parametrize("name", per_model(DEPLOYED))
def test_every_artifact_runs_on_tflite_runtime_2_14(name, device_python, exports, tmp_path):
    model = exports.model(name)
    samples = sample_inputs(model, count=2)
    samples = samples if isinstance(samples, list) else [samples]
    feed = {tensor.name: array for tensor, array in zip(model.inputs, samples)}
    np.savez(tmp_path / "inputs.npz", **feed)
    cases = []
    for quantization in QUANTIZATIONS:  # the exports the parity suite checked
        path = exports.tflite(name, quantization)
        cases.append({"artifact": str(path), "inputs": str(tmp_path / "inputs.npz"),
                      "outputs": str(tmp_path / f"{quantization}.npy"),
                      "quantization": quantization})  # fmt: skip
    assert _run_on_device(device_python, cases) == ["tflite-runtime 2.14.0"]
    segmenter = keras_segen.model_entry(name).task == "segmentation"
    keras_outputs = model(feed)
    if isinstance(keras_outputs, list):
        keras_outputs = keras_outputs[0]
    keras_outputs = np.asarray(keras_outputs)
    for case in cases:
        newest = export.ArtifactRunner(case["artifact"])(feed)
        newest = newest[0] if isinstance(newest, list) else newest
        device = np.load(case["outputs"])
        scale = max(float(np.ptp(keras_outputs)), float(np.abs(keras_outputs).max()), 1e-3)
        between = np.abs(device - newest) / scale
        if case["quantization"] in (None, "float16"):  # the same float kernels
            assert between.max() <= 1e-4, (case, between.max())
        elif case["quantization"] == "dynamic":  # hybrid kernels quantise activations
            # ... per runtime version: PSPNet's pooled 1x1 branches differ by 0.22% on average;
            # through SPADE's 30 hybrid convolutions in a row a few pixels differ by up to 1.7%.
            worst = DYNAMIC_MAX.get(name, 1e-2)
            assert between.mean() <= 3e-3 and between.max() <= worst, (case, between.max())
        else:  # int8 kernels round differently: as close to Keras as on the newest runtime
            errors = [np.abs(out - keras_outputs).mean() / scale for out in (device, newest)]
            assert errors[0] <= 1.5 * errors[1] + 1e-3, (case, errors)
            if segmenter:
                labels = keras_outputs.argmax(-1)
                agreement = [np.mean(out.argmax(-1) == labels) for out in (device, newest)]
                assert agreement[0] >= agreement[1] - 0.02, (case, agreement)


@pytest.mark.xdist_group("unet")
def test_device_runner_chooses_a_runtime(device_python, exports):
    path = exports.tflite("unet")
    code = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("runner", {str(RUNNER)!r})
runner = importlib.util.module_from_spec(spec); spec.loader.exec_module(runner)
print(runner.Model({str(path)!r}).runtime)
try:
    runner.Model({str(path)!r}, runtime="ai-edge-litert")
except ImportError as error:
    print(str(error).replace(chr(10), " "))
runner.main([{str(path)!r}, "--benchmark", "--repeats", "2"])
"""
    device = subprocess.run([str(device_python), "-c", code], capture_output=True, text=True)
    assert device.returncode == 0, device.stderr[-2000:]
    lines = device.stdout.splitlines()
    assert lines[0] == "tflite-runtime 2.14.0"  # the only runtime there
    assert "pip install ai-edge-litert" in lines[1] and "pip install tflite-runtime" in lines[1]
    assert lines[-1].startswith("tflite-runtime 2.14.0, threads default: p50")
    here = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert here.returncode == 0, here.stderr[-2000:]
    assert here.stdout.splitlines()[0].startswith("ai-edge-litert ")  # preferred when present
    runner = _runner()
    with pytest.raises(ValueError, match="runtime must be one of"):
        runner.Model(str(path), runtime="tflite")


def test_an_environment_that_cannot_be_made_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no wheel"):
        unavailable("no wheel")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no wheel"):
        unavailable("no wheel")


def _runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("device_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
