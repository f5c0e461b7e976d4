"""Models on Keras Applications encoders export to float32 and int8 TFLite with built-in
ops (the ImageNet preprocessing and the atrous rewrite included) and match Keras; every
registered decoder's tiny preset goes through the export suite. Encoder families x
decoders, with latency and delegation: benchmarks/encoders.py."""

import numpy as np
import pytest

import keras_segen
from keras_segen import export
from tests.export.conftest import realistic

CASES = {
    "deeplabv3_plus-mobilenetv2-os8": lambda: keras_segen.deeplabv3_plus(
        (64, 64, 3), 3, backbone="mobilenetv2", output_stride=8, aspp_filters=16,
        low_level_filters=8, alpha=0.35,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_encoder_models_export_to_float_and_int8_tflite(case, tmp_path):
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
