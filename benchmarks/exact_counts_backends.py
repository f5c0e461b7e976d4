"""Confusion-matrix counts above 2^24 on every Keras backend installed here.

Loads only ``keras_segen.labels`` and ``keras_segen.metrics.segmentation`` (no
TensorFlow needed), so it also runs where only JAX or PyTorch is installed (the device
machines). For each backend it streams two updates of a 4097x4097 map (16,785,409 pixels,
odd and above 2^24, so float32 cannot hold it) eagerly and in an XLA/compiled
``model.evaluate``, and checks the two-part counter past 2^53.

    python benchmarks/exact_counts_backends.py [jax torch tensorflow]
"""

import importlib.util
import os
import subprocess
import sys
import types

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras_segen")


def _metrics_module():
    package = types.ModuleType("keras_segen")
    package.__path__ = [ROOT]
    sys.modules["keras_segen"] = package
    modules = {"keras_segen.labels": "labels.py",
               "keras_segen.metrics.segmentation": "metrics/segmentation.py"}  # fmt: skip
    for name, path in modules.items():
        spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def check():
    """Runs the checks on the current backend and prints one result line."""
    import keras
    import numpy as np

    segmentation = _metrics_module()
    side = 4097
    masks = np.zeros((1, side, side), "int32")
    streamed = segmentation.MeanIoU(2)
    streamed.update_state(masks, masks)
    streamed.update_state(masks, masks)
    far = segmentation.PixelAccuracy(2)
    far.counts_high.assign(np.array([[2**29, 0], [0, 0]], "int32"))
    far.counts_low.assign(np.array([[2**24 - 1, 0], [0, 0]], "int32"))
    far.update_state(masks, masks)
    inputs = keras.Input((4, 4, 1))
    bias = keras.initializers.Constant([0.0, 1.0])
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1, bias_initializer=bias)(inputs))
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True,
                  metrics=[segmentation.MeanIoU(2)])  # fmt: skip
    result = model.evaluate(np.zeros((2, 4, 4, 1), "float32"), np.ones((2, 4, 4), "int32"),
                            verbose=0, return_dict=True)  # fmt: skip
    ok = (
        streamed.counts()[0, 0] == 2 * side * side
        and far.counts()[0, 0] == 2**53 + 2**24 - 1 + side * side
        and abs(result["mean_iou"] - 1.0) < 1e-6
    )
    print(f"| {keras.backend.backend()} | {int(streamed.counts()[0, 0]):,} "
          f"(expected {2 * side * side:,}) | {int(far.counts()[0, 0]):,} | "
          f"{result['mean_iou']:.4f} | {'exact' if ok else 'WRONG'} |")  # fmt: skip
    return ok


def main(backends):
    """Runs ``check`` once per backend in a fresh process."""
    print("| backend | two updates of 16,785,409 | past 2^53 | compiled mean IoU | verdict |")
    print("|---|---|---|---|---|")
    failed = False
    for backend in backends or ("tensorflow", "jax", "torch"):
        environment = {**os.environ, "KERAS_BACKEND": backend}
        result = subprocess.run([sys.executable, __file__, "--check"], env=environment,
                                capture_output=True, text=True)  # fmt: skip
        lines = [line for line in result.stdout.splitlines() if line.startswith("|")]
        print(lines[-1] if lines else f"| {backend} | not available here | | | |")
        failed |= result.returncode == 1 and bool(lines)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if check() else 1)
    sys.exit(main(sys.argv[1:]))
