"""Every tutorial notebook runs top to bottom (in its fast setting) without an error."""

import os
import pathlib

import nbclient
import nbformat
import pytest

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPOSITORY / "tutorials").glob("*.ipynb"))


def test_the_five_tutorials_exist():
    assert [path.stem for path in NOTEBOOKS] == [
        "01_segmentation_unet",
        "02_gans",
        "03_label_to_image",
        "04_export_to_edge",
        "05_segmentation_meets_gans",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_tutorial_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_SEGEN_TUTORIAL_FAST", "1")
    monkeypatch.setenv("KERAS_SEGEN_REPOSITORY", str(REPOSITORY))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert images, f"{path.name} shows no figure"
    assert os.listdir(tmp_path), f"{path.name} wrote nothing"
