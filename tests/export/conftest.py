"""Exports shared by the export tests, made once per test session (per worker under xdist).

Each registered model is built once at its ``tiny`` preset with realistic random weights
(He: kernels N(0, 2/fan_in), which keeps the activation scale through ReLU stacks; the
papers' small initialisations give outputs near 0, against which every parity gate would
pass trivially) and each of its TFLite files is converted once: the parity suite, the
tflite-runtime 2.14 check, the delegation report and the device runner tests all read the
same files.
"""

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
