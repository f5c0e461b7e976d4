"""The keras-segen command line."""

import shutil
import subprocess

import pytest

import keras_segen
from keras_segen import cli


def test_list(capsys):
    assert cli.main(["list", "--task", "segmentation"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == keras_segen.list_models("segmentation")
    assert "Builds a U-Net." in next(line for line in lines if line.startswith("unet"))


def test_info_builds_at_a_size(capsys):
    assert cli.main(["info", "unet", "--input-size", "64x96", "--num-classes", "4"]) == 0
    out = capsys.readouterr().out
    assert "paper: Ronneberger" in out
    assert "output: (None, 64, 96, 4)" in out
    assert "parameters:" in out


def test_errors_exit_with_status_2(capsys):
    assert cli.main(["info", "nope"]) == 2
    assert "Unknown model 'nope'" in capsys.readouterr().err
    assert cli.main(["info", "unet", "--input-size", "100"]) == 2
    assert "not a multiple of the model's total stride 16" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["info", "unet", "--input-size", "ax3"])


@pytest.mark.skipif(shutil.which("keras-segen") is None, reason="console script not installed")
def test_console_script():
    result = subprocess.run(
        ["keras-segen", "--version"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"keras-segen {keras_segen.__version__}"


def test_train_resume_evaluate_predict_quickstart(tmp_path, capsys):
    import json
    import os

    run = tmp_path / "run"
    common = ["--image-size", "32", "--num-examples", "16", "--batch-size", "8", "--verbose", "0"]
    kwargs = ["--model-kwargs", '{"filters": 4, "depth": 2}']
    assert cli.main(["train", "--epochs", "1", "--out", str(run), *common, *kwargs]) == 0
    assert f"run directory: {run}" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["model_kwargs"] == {
        "filters": 4,
        "depth": 2,
    }

    assert cli.main(["train", "--resume", str(run), "--verbose", "0"]) == 0
    assert cli.main(["evaluate", str(run), "--split", "validation"]) == 0
    assert "pixel accuracy" in capsys.readouterr().out
    assert (run / "confusion_matrix.png").exists()

    photo = tmp_path / "photo.png"
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(photo)
    assert cli.main(["predict", str(run), str(photo), "--out", str(tmp_path / "pred")]) == 0
    assert "wrote 2 files" in capsys.readouterr().out
    assert cli.main(["train", "--epochs", "1", "--out", str(run), *common]) == 2
    assert "already holds a run" in capsys.readouterr().err

    quick = tmp_path / "quick"
    args = [
        "quickstart",
        "--out",
        str(quick),
        "--epochs",
        "1",
        "--num-examples",
        "16",
        "--image-size",
        "32",
        "--verbose",
        "0",
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "quickstart: held-out mean IoU" in out
    assert "quickstart: int8 TFLite" in out and "argmax agreement with Keras" in out
    written = set(os.listdir(quick))
    assert {"metrics.json", "curves.png", "predictions.png", "best.keras"} <= written
    assert {"model_int8.tflite", "model_int8.tflite.json"} <= written


def test_bad_cli_values_exit_with_usage_errors():
    with pytest.raises(SystemExit):
        cli.main(["train", "--model-kwargs", "[1, 2]"])
    with pytest.raises(SystemExit):
        cli.main(["train", "--loss", "hinge"])
