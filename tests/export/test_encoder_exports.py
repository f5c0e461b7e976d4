"""Models on Keras Applications encoders export to float32 and int8 TFLite with built-in
ops (the ImageNet preprocessing and the atrous rewrite included), match Keras, and run on
tflite-runtime 2.14 as on the newest LiteRT; every registered decoder's tiny preset goes
through the export suite. Encoder families x decoders, with latency and delegation:
benchmarks/encoders.py; one network of every Keras Applications module on tflite-runtime
2.14: benchmarks/encoder_runtimes.py."""

import numpy as np
import pytest

import keras_segen
from keras_segen import export
from tests.export.conftest import realistic, run_on_device

CASES = {
    "deeplabv3_plus-mobilenetv2-os8": lambda: keras_segen.deeplabv3_plus(
        (64, 64, 3), 3, backbone="mobilenetv2", output_stride=8, aspp_filters=16,
        low_level_filters=8, alpha=0.35,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_encoder_models_export_to_float_and_int8_tflite(case, request, tmp_path):
    model = realistic(CASES[case]())
    images = np.random.default_rng(0).random((8, 64, 64, 3)).astype("float32")
    float_path = export.to_tflite(model, tmp_path / "float.tflite")
    assert export.verify(model, float_path, images[:2])["max_abs_diff"] <= 1e-3
    int8_path = export.to_tflite(model, tmp_path / "int8.tflite", "int8", images)
    report = export.verify(model, int8_path, images[:2])
    assert report["argmax_agreement"] >= 0.8, report
    for path in (float_path, int8_path):
        ops = export.inspect(path)["ops"]
        assert "FlexDelegate" not in " ".join(ops) and all(op.isupper() for op in ops), ops
    # The same files on tflite-runtime 2.14: float as LiteRT, int8 as close to Keras.
    device_python = request.getfixturevalue("device_python")  # skips here only if missing
    np.savez(tmp_path / "inputs.npz", image=images[:2])
    cases = [{"artifact": str(path), "inputs": str(tmp_path / "inputs.npz"),
              "outputs": f"{path}.npy"} for path in (float_path, int8_path)]
    assert run_on_device(device_python, cases) == ["tflite-runtime 2.14.0"]
    logits = np.asarray(model(images[:2]))
    scale = float(np.ptp(logits))
    device = [np.load(case["outputs"]) for case in cases]
    newest = [export.ArtifactRunner(path)(images[:2]) for path in (float_path, int8_path)]
    assert np.abs(device[0] - newest[0]).max() <= 1e-4 * scale
    agreement = [np.mean(out.argmax(-1) == logits.argmax(-1)) for out in (device[1], newest[1])]
    assert agreement[0] >= agreement[1] - 0.02, agreement
