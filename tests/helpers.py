"""Shared test helpers: a tiny batch, model inputs, a fresh Python process."""

import json
import os
import subprocess
import sys

import numpy as np

IMAGE_SIZE = 32
NUM_CLASSES = 3

def tiny_batch(batch=2, size=IMAGE_SIZE, channels=3, num_classes=NUM_CLASSES, seed=0):
    """Images in [0, 1] and masks in which each class is a vertical band, darker to lighter."""
    rng = np.random.default_rng(seed)
    columns = np.arange(size) * num_classes // size
    masks = np.broadcast_to(columns, (batch, size, size)).astype("int32").copy()
    images = masks[..., None] / max(num_classes - 1, 1) + rng.normal(
        0, 0.05, (batch, size, size, channels)
    )
    return np.clip(images, 0, 1).astype("float32"), masks


def run_python(code, backend=None, timeout=300, args=()):
    """Runs ``code`` in a fresh Python process (under Keras ``backend`` if given) and
    returns its stdout; fails on error."""
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# Runs each script of a JSON {name: code} in turn, from a fresh Keras session and the float32
# policy, and prints one JSON {name: [what the script printed, its traceback or None]}.
_SCRIPTS_DRIVER = r"""
import contextlib, io, json, sys, traceback
import keras
outputs = {}
for name, code in json.loads(sys.argv[1]).items():
    keras.backend.clear_session(free_memory=False)
    keras.mixed_precision.set_global_policy("float32")
    printed, error = io.StringIO(), None
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, name, "exec"), {"__name__": "__main__"})
    except Exception:
        error = traceback.format_exc()[-3000:]
    outputs[name] = [printed.getvalue(), error]
print(json.dumps(outputs))
"""


class ScriptOutputs(dict):
    """``{name: stdout}`` of :func:`run_scripts`; reading a script that raised fails with
    its traceback, so one broken script fails only the tests that read it."""

    def __getitem__(self, name):
        printed, error = super().__getitem__(name)
        assert error is None, f"script {name!r} failed:\n{error}"
        return printed


def run_scripts(scripts, backend=None, timeout=600):
    """Runs several independent scripts in one fresh process (one interpreter start and one
    backend import between them) and returns their outputs by name (:class:`ScriptOutputs`)."""
    output = run_python(_SCRIPTS_DRIVER, backend, timeout=timeout, args=[json.dumps(scripts)])
    return ScriptOutputs(json.loads(output.strip().splitlines()[-1]))


def per_model(names):
    """``names`` as test parameters in one xdist group per model (``--dist loadgroup``):
    every test of a model runs on the same worker, whose session ``exports`` then
    converts each of the model's files once."""
    import pytest

    return [pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in names]


def small_model(name):
    """Any registered model at its ``tiny`` preset (segmenters: 32x32, 3 classes)."""
    import keras_segen

    return keras_segen.get_model(name, preset="tiny")


def sample_inputs(model, count=4, seed=0):
    """Inputs for every model input: images in [0, 1], N(0, 1) latents, labels in [0, 3)."""
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        if "int" in str(tensor.dtype):
            inputs.append(rng.integers(0, NUM_CLASSES, (count,)).astype("int32"))
        elif len(tensor.shape) == 2:
            inputs.append(rng.normal(size=(count, tensor.shape[-1])).astype("float32"))
        else:
            inputs.append(rng.uniform(0, 1, (count, *tensor.shape[1:])).astype("float32"))
    return inputs if len(inputs) > 1 else inputs[0]


def run_config(run_dir):
    """A run's configuration as one flat dict (fields and what it learned), as
    ``keras_segen.runs.load_run_or_model`` gives it."""
    from keras_segen.runs import read_run

    return read_run(run_dir)[0].flat()
