"""Exports shared by the export tests, made once per test session (per worker under xdist).

Each registered model is built once at its ``tiny`` preset with realistic random weights
(He: kernels N(0, 2/fan_in), which keeps the activation scale through ReLU stacks; the
papers' small initialisations give outputs near 0, against which every parity gate would
pass trivially) and each of its TFLite files is converted once: the parity suite, the
tflite-runtime 2.14 check, the delegation report and the device runner tests all read the
same files. The tflite-runtime 2.14 environment (``device_python``) is made here too, once
per session, for the tests that run artifacts on it.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import sample_inputs, small_model

# SPADE's modulation convolutions (gamma, beta) keep the authors' small initialisation:
# drawn at He scale, norm(x) * (1 + gamma) compounds over 20 layers and saturates the
# image, which no trained generator does.
MODULATION = ("/gamma/kernel", "/beta/kernel")


def realistic(model, seed=0):
    """Re-draws every kernel and embedding from N(0, 2/fan_in); returns the model."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if weight.path.endswith(MODULATION):
            continue
        if weight.path.endswith(("kernel", "embeddings")) and len(weight.shape) >= 2:
            fan_in = int(np.prod(weight.shape[:-1]))
            weight.assign(rng.normal(0, np.sqrt(2 / fan_in), weight.shape).astype("float32"))
    return model


class SharedExports:
    """Registered models (``tiny`` preset, realistic weights) and their exports, each made once.

    ``folder(name)`` is where a model's artifacts live; ``tests.harness.run_export_test``
    writes its float TFLite files there under the names ``tflite`` reads (``None.tflite``,
    ``float16.tflite``, ``dynamic.tflite``), so whichever test comes first converts them.
    """

    def __init__(self, root):
        self.root = root
        self.models = {}

    def model(self, name):
        """The registered model ``name`` at its ``tiny`` preset with realistic weights."""
        if name not in self.models:
            self.models[name] = realistic(small_model(name))
        return self.models[name]

    def folder(self, name):
        """The folder of ``name``'s artifacts."""
        path = self.root / name
        path.mkdir(exist_ok=True)
        return path

    def tflite(self, name, quantization=None):
        """``name``'s ``.tflite`` file (int8: calibrated on 16 ``sample_inputs``, seed 1)."""
        from keras_segen import export

        path = self.folder(name) / f"{quantization}.tflite"
        if not path.exists():
            model = self.model(name)
            calibration = sample_inputs(model, 16, seed=1) if quantization == "int8" else None
            export.to_tflite(model, path, quantization, representative_data=calibration)
        return path


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    """The session's ``SharedExports``."""
    return SharedExports(tmp_path_factory.mktemp("shared_exports"))


RUNNER = pathlib.Path(__file__).resolve().parents[2] / "export" / "runner.py"
DEVICE_PACKAGES = ("tflite-runtime==2.14.0", "numpy<2")
DEVICE_PYTHONS = ("python3.11", "python3.10", "python3.9", "python3.8")  # with 2.14 wheels

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


def run_on_device(python, cases):
    """Runs ``cases`` (``artifact``, ``inputs`` .npz, ``outputs`` .npy) through the device
    runner in ``python``; returns the sorted names of the runtimes that ran them."""
    result = subprocess.run(
        [str(python), "-c", DEVICE_SCRIPT, str(RUNNER), json.dumps(cases)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
