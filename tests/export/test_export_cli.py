"""``keras-segen export``: registered names, run directories, reports, errors."""

import json

from keras_segen import cli
from keras_segen.runs import train_generation


def test_export_registered_segmenter_to_int8(tmp_path, capsys):
    out = tmp_path / "unet_int8.tflite"
    argv = ["export", "unet", "--input-size", "32", "--quantize", "int8", "--out", str(out)]
    assert cli.main(argv) == 0
    report = json.loads((tmp_path / "unet_int8.tflite.json").read_text())
    assert report["quantization"] == "int8" and report["format"] == "tflite"
    assert report["argmax_agreement"] >= 0.9 and report["size_bytes"] == out.stat().st_size
    assert set(report["latency_ms"]) == {"keras_eager", "artifact"}
    printed = capsys.readouterr().out
    assert "parity: max_abs_diff" in printed and "argmax_agreement" in printed
    # The default U-Net is all XNNPACK in int8: one partition, nothing left on TFLite kernels.
    xnnpack = report["delegation"]["xnnpack"]
    assert xnnpack["partitions"] == 1 and xnnpack["undelegated_ops"] == {}
    assert "XNNPACK: 1 partition(s), 100% of ops delegated" in printed
    assert "GPU delegate: " in printed


def test_export_generation_run_uses_the_generator(tmp_path):
    run = tmp_path / "cgan"
    train_generation(model="cgan", out=str(run), epochs=1, batch_size=8, image_size=32,
                     latent_dim=8, filters=4, d_filters=4, num_examples=8, verbose=0)  # fmt: skip
    assert cli.main(["export", str(run), "--format", "onnx"]) == 0
    report = json.loads((run / "model.onnx.json").read_text())
    assert report["task"] == "generation" and report["max_abs_diff"] <= 1e-4


def test_export_errors(capsys):
    assert cli.main(["export", "no_such_model.keras"]) == 2
    assert "neither a run directory nor a .keras file" in capsys.readouterr().err
    assert cli.main(["export", "unet", "--format", "onnx", "--quantize", "int8"]) == 2
    assert "quantize applies to format='tflite' only" in capsys.readouterr().err
