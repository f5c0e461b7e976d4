"""Every dataset layout trains, evaluates and predicts from the command line on its fixture;
splits follow the plan recorded in the run."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from keras_segen import cli
from keras_segen.data import read_mask
from tests.data import fixtures
from tests.helpers import run_config

TINY = ["--epochs", "1", "--image-size", "16x32", "--batch-size", "2", "--augment", "none",
        "--model-kwargs", '{"filters": 4, "depth": 2}', "--progress", "0"]  # fmt: skip
LAYOUTS = {
    "folder": (lambda root: fixtures.write_generic(root, count=6), ["--validation-split", "0.34"]),
    "voc": (fixtures.write_voc, []),
    "cityscapes": (fixtures.write_cityscapes, []),
    "ade20k": (fixtures.write_ade20k, []),
    "camvid": (fixtures.write_camvid, []),
}
# What the final evaluation (metrics.json) uses for each fixture.
TEST_SPLIT = {"folder": "validation", "voc": "validation", "cityscapes": "validation",
              "ade20k": "validation", "camvid": "test"}  # fmt: skip


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_trains_evaluates_and_predicts_from_the_cli(tmp_path, layout, capsys):
    write, options = LAYOUTS[layout]
    source = write(tmp_path / "data")
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(source), "--out", str(run), *TINY, *options]) == 0
    config = run_config(run)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == TEST_SPLIT[layout]
    assert config["splits"]["test"]["split"] == TEST_SPLIT[layout]
    assert len(metrics["per_class"]) == config["num_classes"]
    assert cli.main(["evaluate", str(run), "--split", "validation"]) == 0
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["images"] >= 1 and evaluation["split"] == "validation"
    frame = fixtures.picture(40, 72, seed=7)  # larger than the 16x32 model input: tiles
    Image.fromarray(frame).save(tmp_path / "frame.png")
    assert cli.main(["predict", str(run), str(tmp_path / "frame.png"), "--out",
                     str(tmp_path / "pred")]) == 0  # fmt: skip
    mask = read_mask(tmp_path / "pred" / "frame_mask.png")
    assert mask.shape == (40, 72) and mask.max() < config["num_classes"]
    if config["class_colours"]:  # the palette PNG shows the dataset's own class colours
        palette = Image.open(tmp_path / "pred" / "frame_mask.png").getpalette()
        assert palette[:3] == config["class_colours"][0]
    assert "problem" not in capsys.readouterr().err


def test_flat_folder_needs_a_validation_source_and_records_the_split(tmp_path, capsys):
    source = fixtures.write_generic(tmp_path / "data", count=10)
    run = str(tmp_path / "run")
    assert cli.main(["train", "--dataset", str(source), "--out", run, *TINY]) == 2
    assert "no validation split" in capsys.readouterr().err
    assert cli.main(["train", "--dataset", str(source), "--out", run, *TINY,
                     "--validation-split", "0.2"]) == 0  # fmt: skip
    config = run_config(tmp_path / "run")
    assert config["validation_split"] == 0.2
    assert config["splits"]["validation"]["validation_split"] == 0.2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["images"] == 2 and "optimistic" in metrics["evaluated_on"]


def test_validation_dataset_and_the_source_validation_split_as_test(tmp_path):
    source = tmp_path / "data"
    fixtures.write_generic(source, count=4, split="train")
    fixtures.write_generic(source, count=3, split="val")
    other = fixtures.write_generic(tmp_path / "other", count=2)
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(source), "--out", str(run), *TINY,
                     "--val-dataset", str(other)]) == 0  # fmt: skip
    config = run_config(run)
    assert config["splits"]["validation"]["source"] == str(other)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == "validation" and metrics["images"] == 3  # val/, unused so far


def test_skip_bad_trains_on_the_good_pairs_and_lists_the_others(tmp_path):
    source = fixtures.write_generic(tmp_path / "data", count=8)
    bad = source / "images" / "img_001.png"
    bad.write_bytes(bad.read_bytes()[:100])
    run = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        str(source),
        "--out",
        str(run),
        *TINY,
        "--validation-split",
        "0.25",
    ]
    assert cli.main(args) == 2  # the fault stops the run, naming the file
    assert cli.main([*args, "--on-bad", "skip"]) == 0
    with open(run / "skipped.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["path"] for row in rows] == [str(bad)]
    assert "truncated" in rows[0]["problem"]


def test_evaluate_at_full_resolution(tmp_path):
    source = fixtures.write_cityscapes(tmp_path / "data")
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(source), "--out", str(run), *TINY]) == 0
    assert cli.main(["evaluate", str(run), "--split", "validation", "--full-resolution"]) == 0
    report = json.loads((run / "evaluation.json").read_text())
    # Scored against the 64x32 masks as stored; the unlabeled quarter (id 0) is ignored.
    assert report["full_resolution"] and report["images"] == 2
    assert np.sum(report["confusion_matrix"]) == 2 * 64 * 32 * 3 // 4


def test_check_data_reports_layout_histogram_and_problems(tmp_path, capsys):
    source = fixtures.write_cityscapes(tmp_path / "data")
    histogram = tmp_path / "histogram.png"
    assert cli.main(["check-data", str(source), "--out", str(histogram)]) == 0
    out = capsys.readouterr().out
    assert "cityscapes layout, 19 classes" in out and "no problems found" in out
    # Each 64x32 labelIds mask is a quarter road (7), car (26), unlabeled (0), person (24).
    road = next(line for line in out.splitlines() if line.strip().startswith("road"))
    assert road.split()[1] == str(6 * 64 * 32 // 4)  # 4 train + 2 val frames
    assert histogram.stat().st_size > 1000
    mask = next((source / "gtFine" / "train").rglob("*_labelIds.png"))
    Image.fromarray(np.full((32, 64), 34, np.uint8)).save(mask)
    assert cli.main(["check-data", str(source), "--out", str(histogram)]) == 1
    captured = capsys.readouterr()
    assert f"[train] {mask}: values that are no Cityscapes label id (0..33): 34" in captured.out
    assert "1 problem(s)" in captured.err


def test_class_counts_are_checked_before_training(tmp_path, capsys):
    voc = fixtures.write_voc(tmp_path / "voc")
    run = tmp_path / "run"
    args = ["train", "--dataset", str(voc), "--out", str(run), *TINY]
    assert cli.main([*args, "--num-classes", "4"]) == 2
    error = capsys.readouterr().err
    assert "num_classes=4, but the voc layout" in error and "names 21 classes" in error
    assert not run.exists()  # refused before a run directory was made

    # A class file of one's own names the classes of a VOC-layout copy; its masks hold
    # 0, 1, 15 and 255, so four names leave label 15 outside the classes: a data fault.
    four = tmp_path / "four.txt"
    four.write_text("ground\nplane\nsky\nsea\n")
    assert cli.main([*args, "--classes", str(four)]) == 2
    assert "labels [15] outside 0..3" in capsys.readouterr().err
    sixteen = tmp_path / "classes.txt"
    sixteen.write_text("".join(f"class{i}\n" for i in range(16)))
    assert cli.main([*args, "--classes", str(sixteen), "--num-classes", "16"]) == 0
    config = run_config(run)
    assert config["num_classes"] == 16 and config["class_names"][15] == "class15"
    out = capsys.readouterr().out
    # Classes 2..14 have no pixel in the training masks: said at the start of the run.
    assert "13 of 16 classes have no pixel in the training data: 2 class2" in out

    folder = fixtures.write_generic(tmp_path / "folder", count=4)
    (folder / "classes.txt").write_text("a\nb\nc\nd\n")
    folder_args = ["train", "--dataset", str(folder), "--out", str(tmp_path / "r2"), *TINY]
    assert cli.main([*folder_args, "--validation-split", "0.5", "--num-classes", "5"]) == 2
    assert "num_classes=5, but" in capsys.readouterr().err


def test_check_data_warns_of_empty_classes_and_writes_no_file_unasked(tmp_path, capsys,
                                                                    monkeypatch):  # fmt: skip
    voc = fixtures.write_voc(tmp_path / "voc")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check-data", str(voc)]) == 0
    out = capsys.readouterr().out
    assert "warning: 18 of 21 classes have no pixel in the train split" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voc"]  # nothing in the cwd
