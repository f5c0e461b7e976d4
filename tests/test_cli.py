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
