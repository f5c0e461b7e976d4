"""The keras-segen command line."""

import os
import shutil
import subprocess
import sys

import pytest

import keras_segen
from keras_segen import cli


def test_list_is_an_aligned_table(capsys):
    assert cli.main(["list", "--task", "segmentation"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "presets", "paper"]
    assert [line.split()[0] for line in lines[1:]] == keras_segen.list_models("segmentation")
    columns = [lines[0].index(word) for word in ("task", "presets", "paper")]
    for line in lines[1:]:  # every column starts where its header does
        assert all(line[c - 2 : c] == "  " and line[c] != " " for c in columns), line
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["unet"] == ["unet", "segmentation", "paper,edge,small,tiny", "Ronneberger", "2015"]


def test_list_shows_the_generation_recipes(capsys):
    assert cli.main(["list", "--task", "generation"]) == 0
    out = capsys.readouterr().out
    recipes = out.split("generation recipes")[1].splitlines()[2:]
    names = [line.split()[0] for line in recipes]
    assert names == ["dcgan", "wgan-gp", "cgan", "vae", "pix2pix", "spade"]


def test_info_lists_presets_and_builds_one(capsys):
    assert cli.main(["info", "unet"]) == 0
    out = capsys.readouterr().out
    assert "    tiny   4 base filters, depth 2 at 32x32, 3 classes (tests)" in out
    assert "built with" not in out
    assert cli.main(["info", "unet", "--preset", "paper"]) == 0
    out = capsys.readouterr().out
    assert "parameters: 31,030,658" in out and "output: (None, 388, 388, 2)" in out


def test_version_list_and_info_do_not_import_keras(tmp_path):
    """The answers come from the registry's reading of the sources, not from Keras."""
    from tests.helpers import run_python

    out = run_python(
        "import sys\n"
        "from keras_segen import cli\n"
        "for argv in (['list'], ['list', '--backbones'], ['info', 'fcn'],\n"
        "             ['info', 'dcgan_generator']):\n"
        "    assert cli.main(argv) == 0\n"
        "heavy = ('keras', 'tensorflow', 'matplotlib')\n"
        "print('imported:', sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert out.splitlines()[-1] == "imported: []"


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
    assert result.stderr == ""  # no TensorFlow or absl log lines


def test_train_resume_evaluate_predict_quickstart(tmp_path, capsys):
    import json
    import os

    run = tmp_path / "run"
    common = ["--image-size", "32", "--num-examples", "16", "--batch-size", "8", "--progress", "0"]
    kwargs = ["--model-kwargs", '{"filters": 4, "depth": 2}']
    assert cli.main(["train", "--epochs", "1", "--out", str(run), *common, *kwargs]) == 0
    assert f"run directory: {run}" in capsys.readouterr().out
    stored = json.loads((run / "config.json").read_text())
    assert stored["model"]["model_kwargs"] == {"filters": 4, "depth": 2}
    assert stored["training"]["schedule"] == "cosine"

    # A finished cosine run is extended by a new cycle; settings other than --epochs and
    # --strategy cannot change on --resume.
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--progress", "0"]) == 0
    assert "new cosine cycle over epochs 2-2" in capsys.readouterr().out
    assert json.loads((run / "state.json").read_text())["epochs_completed"] == 2
    assert json.loads((run / "config.json").read_text())["resolved"]["cycle_epochs"] == [1, 2]
    assert cli.main(["train", "--resume", str(run), "--batch-size", "4"]) == 2
    assert "--batch-size cannot change" in capsys.readouterr().err
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
        "--progress",
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


def test_help_of_every_command_imports_no_tensorflow_and_prints_no_log_line():
    from tests.helpers import run_python

    commands = ["list", "info", "train", "train-gan", "generate", "synthesize", "edit-scene",
                "export", "evaluate", "predict", "check-data", "quickstart"]  # fmt: skip
    out = run_python(
        "import contextlib, io, sys\n"
        "from keras_segen import cli\n"
        f"for command in {commands!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        cli.main([command, '--help'])\n"
        "print('imported:', sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
    )
    assert out.splitlines()[-1] == "imported: []"


def test_importing_tensorflow_through_the_library_prints_nothing():
    result = subprocess.run(
        [sys.executable, "-c", "import keras_segen, keras; import tensorflow as tf; "
         "print(int(tf.constant(1) + 1))"],
        capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout == "2\n"
    assert result.stderr == ""  # no oneDNN, CUDA, cpu_feature_guard or absl lines


def test_choices_named_in_the_cli_match_the_library():
    from keras_segen.cli import data, export
    from keras_segen.export.convert import QUANTIZATIONS
    from keras_segen.inference import MODES
    from keras_segen.runs.export import FORMATS

    assert data.TILING_MODES == MODES and export.FORMATS == FORMATS
    assert export.QUANTIZATIONS == tuple(q for q in QUANTIZATIONS if q)
