"""Every ``.tflite`` artifact of every registered model a device runs (segmenters and
generators) runs on tflite-runtime 2.14, the runtime devices ship (Raspberry Pi OS, Coral,
in-vehicle Linux images), and gives the outputs of the newest ai-edge-litert; the device
runner works on either runtime.

tflite-runtime 2.14 needs NumPy < 2 and Python 3.8-3.11, so it lives in its own virtual
environment, made once per test session from the package registry with this Python or a
python3.11 ... python3.8 on PATH. Where that cannot be made the tests skip with the reason,
and fail under CI (``CI=true``), so that a green CI run means the check ran.
"""

import subprocess
import sys

import numpy as np
import pytest

import keras_segen
from keras_segen import export
from tests.export.conftest import RUNNER, run_on_device, unavailable
from tests.helpers import per_model, sample_inputs

QUANTIZATIONS = (None, "float16", "dynamic", "int8")

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
    assert run_on_device(device_python, cases) == ["tflite-runtime 2.14.0"]
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
