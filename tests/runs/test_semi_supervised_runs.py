"""Semi-supervised runs: `keras-segen train --dataset L --unlabeled U` trains, resumes,
evaluates and exports like any run; bad unlabelled data and options fail before training."""

import csv
import json

import keras
import numpy as np
import PIL.Image
import pytest

import keras_segen
from keras_segen import cli
from keras_segen.runs import read_history
from tests.helpers import run_config

TINY = [
    "--dataset", "shapes", "--num-examples", "16", "--validation-examples", "8",
    "--image-size", "32", "--batch-size", "8", "--preset", "tiny", "--loss", "ce",
]  # fmt: skip


def _photos(folder, count=12, broken=()):
    """Unlabelled photos of several sizes and modes (RGB PNG, grey JPEG), some broken."""
    rng = np.random.default_rng(0)
    (folder / "more").mkdir(parents=True)
    for index in range(count):
        size = (24 + 8 * (index % 3), 40 - 4 * (index % 2))
        pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        if index % 2:
            PIL.Image.fromarray(pixels[..., 0]).save(folder / "more" / f"grey{index}.jpg")
        else:
            PIL.Image.fromarray(pixels).save(folder / f"photo{index}.png")
    for name in broken:
        (folder / name).write_bytes(b"\x89PNG truncated")
    return folder


def test_cli_trains_resumes_evaluates_and_exports(tmp_path, capsys):
    photos = _photos(tmp_path / "photos", count=20, broken=["bad.png"])
    out = tmp_path / "run"
    command = ["train", *TINY, "--unlabeled", str(photos), "--epochs", "2", "--out", str(out)]
    # One unreadable file stops the run before training, named with its problem.
    assert cli.main(command + ["--semi-warmup", "2"]) == 2
    error = capsys.readouterr().err
    assert "1 problem(s) in 1 file(s) of 21 images:" in error and "bad.png: " in error
    assert "to use only the good images" in error and not out.exists()

    assert cli.main(command + ["--on-bad", "skip"]) == 0
    said = capsys.readouterr().out
    # 20 unlabelled images make the epoch: 3 batches of 8 (the 2 labelled ones repeat).
    assert "semi-supervised (adversarial): 20 unlabelled images" in said
    assert "3 steps per epoch" in said and "exceeds 0.2, from step 1 (--semi-warmup)" in said
    with open(out / "skipped.csv") as file:
        rows = list(csv.DictReader(file))
    roles = [(row["role"], row["path"].endswith("bad.png")) for row in rows]
    assert roles == [("unlabelled", True)]
    history = read_history(out)
    assert history["epoch"] == [1, 2]
    assert {"d_loss", "self_training_loss", "pseudo_label_fraction", "val_mean_iou"} <= set(history)
    config = run_config(out)
    assert config["unlabeled"] == str(photos) and config["semi_warmup"] == 1  # 6 steps / 4
    trainer = keras.models.load_model(out / "last.keras")
    assert type(trainer).__name__ == "SemiSupervisedSegmenter"
    assert int(trainer.g_optimizer.iterations) == int(trainer.d_optimizer.iterations) == 6
    best = keras.models.load_model(out / "best.keras", compile=False)
    assert best.name == "unet" and best.output_shape == (None, 32, 32, 4)  # the segmenter

    # Extending the run continues both networks and optimizers; evaluate and export read it.
    assert cli.main(["train", "--resume", str(out), "--epochs", "3"]) == 0
    trainer = keras.models.load_model(out / "last.keras")
    assert int(trainer.d_optimizer.iterations) == 9 and read_history(out)["epoch"] == [1, 2, 3]
    capsys.readouterr()
    assert cli.main(["evaluate", str(out)]) == 0
    assert "mean" in capsys.readouterr().out
    assert cli.main(["export", str(out), "--format", "tflite"]) == 0
    assert (out / "model.tflite").stat().st_size > 0


def test_self_training_from_python(tmp_path):
    report = keras_segen.train(
        model="unet", dataset="shapes", num_examples=16, validation_examples=8, image_size=32,
        batch_size=8, preset="tiny", epochs=1, unlabeled="shapes", unlabeled_examples=24,
        semi_method="self-training", semi_warmup=0, semi_share=0.5, semi_perturbation="colour",
        out=str(tmp_path / "run"), verbose=0,
    )  # fmt: skip
    assert 0 <= report["mean_iou"] <= 1
    history = read_history(tmp_path / "run")
    assert history["pseudo_label_fraction"][0] == pytest.approx(0.5, abs=0.01)
    assert "d_loss" not in history
    trainer = keras.models.load_model(tmp_path / "run" / "last.keras")
    assert type(trainer).__name__ == "SelfTrainingSegmenter"
    assert trainer.confidence_threshold == 0.9 and int(trainer.optimizer.iterations) == 3
    assert (trainer.pseudo_label_share, trainer.perturbation) == (0.5, "colour")
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["model"]["semi_method"] == "self-training"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"unlabeled": "shapes", "adversarial_weight": 0.1}, "semi-adversarial-weight"),
        ({"unlabeled": "shapes", "pipeline": "numpy", "augment": "none"}, "tf.data pipeline"),
        ({"unlabeled": "no/such/folder"}, "no/such/folder does not exist"),
        ({"unlabeled_examples": 5}, "unlabeled_examples needs unlabeled"),
        ({"unlabeled": "shapes", "semi_threshold": 1.0}, r"semi_threshold must be in \[0, 1\)"),
        ({"unlabeled": "shapes", "semi_method": "mean-teacher"}, "semi_method must be one of"),
        ({"unlabeled": "shapes", "semi_weight": -1}, "semi_weight must be a number >= 0"),
        ({"unlabeled": "shapes", "semi_share": 0}, r"semi_share must be in \(0, 1\]"),
        ({"unlabeled": "shapes", "semi_perturbation": "cutmix"}, "semi_perturbation must be one"),
    ],
)
def test_bad_options_fail_before_any_data_is_read(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        keras_segen.train(model="unet", dataset="shapes", out=str(tmp_path / "run"), verbose=0,
                          **options)  # fmt: skip
    assert not (tmp_path / "run").exists()
