"""Run directories: train, interrupt and resume, evaluate, predict, strategy options (runs
under a mirrored strategy: test_distribution.py)."""

import json
import os

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.runs import read_history
from tests.helpers import run_config

TINY = dict(
    model="unet",
    dataset="shapes",
    image_size=32,
    batch_size=8,
    num_examples=16,
    validation_examples=8,
    model_kwargs={"filters": 4, "depth": 2},
    verbose=0,
)
RUN_FILES = {
    "config.json",
    "state.json",
    "history.csv",
    "last.keras",
    "best.keras",
    "metrics.json",
    "curves.png",
    "predictions.png",
}


class InterruptAfterEpoch(keras.callbacks.Callback):
    """Simulates Ctrl-C at the end of an epoch, after the run has checkpointed it."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt


def test_train_writes_the_run_directory(tmp_path):
    out = tmp_path / "run"
    report = keras_segen.train(out=str(out), epochs=2, **TINY)
    assert RUN_FILES <= set(os.listdir(out))
    history = read_history(out)
    assert history["epoch"] == [1, 2]
    assert {"loss", "mean_iou", "val_loss", "val_mean_iou", "pixel_accuracy"} <= set(history)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["mean_iou"] == pytest.approx(report["mean_iou"])
    assert saved["split"] == "test" and saved["epochs"] == 2 and saved["images"] == 8
    assert set(saved["per_class"]) == {"background", "circle", "rectangle", "triangle"}
    config = run_config(out)
    assert config["num_classes"] == 4 and config["model_kwargs"] == {"filters": 4, "depth": 2}
    best_epoch = int(np.argmax(history["val_mean_iou"]))
    assert json.loads((out / "state.json").read_text())["best"] == pytest.approx(
        history["val_mean_iou"][best_epoch]
    )


def test_interrupted_run_resumes_to_the_same_number_of_epochs(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        keras_segen.train(out=str(out), epochs=3, callbacks=[InterruptAfterEpoch(1)], **TINY)
    assert read_history(out)["epoch"] == [1]
    interrupted = keras.models.load_model(out / "last.keras")
    steps_per_epoch = 16 // 8
    assert int(interrupted.optimizer.iterations) == steps_per_epoch
    keras_segen.resume(str(out), verbose=0)
    assert read_history(out)["epoch"] == [1, 2, 3]
    resumed = keras.models.load_model(out / "last.keras")
    assert int(resumed.optimizer.iterations) == 3 * steps_per_epoch  # optimizer state kept


def test_resume_extends_a_finished_cosine_run_by_a_new_cycle(tmp_path):
    out = tmp_path / "cosine"
    keras_segen.train(out=str(out), epochs=1, learning_rate=0.01, **TINY)
    keras_segen.resume(str(out), epochs=3, verbose=0)
    assert read_history(out)["epoch"] == [1, 2, 3]
    assert run_config(out)["epochs"] == 3 and run_config(out)["cycle_epochs"] == [1, 3]
    optimizer = keras.models.load_model(out / "last.keras").optimizer
    schedule = keras.saving.deserialize_keras_object(optimizer.get_config()["learning_rate"])
    steps = 16 // 8  # per epoch
    assert schedule.cycle_ends == [1 * steps, 3 * steps]
    # Cycle 1 is steps 0-1, cycle 2 steps 2-5: it restarts at the base rate, then follows
    # 0.01 * (1 + cos(pi * t / 4)) / 2.
    rates = [float(schedule(step)) for step in range(7)]
    expected = [0.01, 0.005, 0.01, 0.0085355, 0.005, 0.0014645, 0.0]
    assert rates == pytest.approx(expected, abs=1e-6)


def test_resume_refuses_to_stretch_an_unfinished_cosine_cycle(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        keras_segen.train(out=str(out), epochs=3, callbacks=[InterruptAfterEpoch(1)], **TINY)
    with pytest.raises(ValueError, match="stopped at epoch 1 of a cosine cycle of 3 epochs"):
        keras_segen.resume(str(out), epochs=5)


def test_resume_extends_a_constant_rate_run(tmp_path):
    out = tmp_path / "run"
    keras_segen.train(out=str(out), epochs=1, schedule="constant", **TINY)
    keras_segen.resume(str(out), epochs=2, verbose=0)
    assert read_history(out)["epoch"] == [1, 2]
    assert run_config(out)["epochs"] == 2


def test_run_directory_errors(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="already holds a run"):
        keras_segen.train(out=str(tiny_run), epochs=1, **TINY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"is not a run directory: it has no config.json"):
        keras_segen.resume(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="neither a run directory nor a .keras file"):
        keras_segen.evaluate(str(tmp_path / "nothing.h5"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="nope"), "Unknown model 'nope'"),
        (dict(loss="hinge"), "loss must be one of"),
        (dict(epochs=0), "epochs must be a positive integer"),
        (dict(schedule="step"), "schedule must be one of 'cosine', 'constant'; got 'step'"),
        (dict(augment="flip"), "augment must be one of 'none', 'geometric'"),
        (dict(warmup=3), r"warmup \(3 epochs\) must be shorter than the run \(1 epochs\)"),
        (dict(strategy="tpu"), "strategy must be one of"),
        (dict(dataset="./no/such/folder"), "does not exist"),
    ],
)
def test_bad_train_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.train(**{**TINY, "out": str(tmp_path / "run"), "epochs": 1, **kwargs})


def test_evaluate_and_predict(copy_of_tiny_run, tmp_path):
    from PIL import Image

    out = copy_of_tiny_run
    report = keras_segen.evaluate(str(out), split="validation", verbose=0)
    assert report["images"] == 8
    assert np.sum(report["confusion_matrix"]) == 8 * 32 * 32
    assert {"evaluation.json", "confusion_matrix.png"} <= set(os.listdir(out))
    images = tmp_path / "images"
    images.mkdir()
    for index in range(2):
        image, _ = keras_segen.data.shapes_example(index, 40)
        Image.fromarray((image * 255).astype(np.uint8)).save(images / f"photo{index}.png")
    written = keras_segen.predict(
        str(out / "best.keras"), str(images), str(tmp_path / "pred"), image_size=32
    )
    assert sorted(os.path.basename(p) for p in written) == [
        "photo0_mask.png",
        "photo0_overlay.png",
        "photo1_mask.png",
        "photo1_overlay.png",
    ]
    mask = np.asarray(Image.open(tmp_path / "pred" / "photo0_mask.png"))
    assert mask.shape == (40, 40) and mask.max() < 4  # back at the original size
    with pytest.raises(ValueError, match="No image files"):
        keras_segen.predict(str(out), str(tmp_path / "pred" / ".."), str(tmp_path / "x"))


def test_mixed_precision_and_xla_resume_with_their_optimizer_state(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        keras_segen.train(
            out=str(out),
            epochs=2,
            mixed_precision=True,
            jit_compile=True,
            callbacks=[InterruptAfterEpoch(1)],
            **TINY,
        )
    assert keras.mixed_precision.global_policy().name == "float32"  # restored afterwards
    report = keras_segen.resume(str(out), verbose=0)
    assert report["epochs"] == 2 and report["images"] == 8
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["mean_iou"] == pytest.approx(report["mean_iou"])
    keras.mixed_precision.set_global_policy("mixed_float16")  # the fixture resets it
    model = keras.models.load_model(out / "last.keras")
    assert model.get_layer("encoder1_conv1_conv").dtype_policy.name == "mixed_float16"
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert int(model.optimizer.iterations) == 2 * (16 // 8)  # nothing lost at the resume


class EncoderWeightsAtEpochEnds(keras.callbacks.Callback):
    """Records the encoder's weights (BatchNorm statistics included) and the learning rate."""

    def __init__(self):
        super().__init__()
        self.weights, self.rates = [], []

    def encoder_weights(self):
        network = getattr(self.model, "segmenter", self.model)  # a trainer's segmenter
        return network.get_layer("encoder").get_weights()

    def on_train_begin(self, logs=None):
        if not self.weights:
            self.weights.append(self.encoder_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.encoder_weights())
        optimizer = getattr(self.model, "g_optimizer", self.model.optimizer)
        self.rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))


BACKBONE = dict(
    TINY, backbone="light", learning_rate=0.01, schedule="constant",
    model_kwargs={"backbone_kwargs": {"filters": 4}, "decoder_filters": [8, 8, 8, 8, 8]},
)  # fmt: skip


def test_frozen_encoder_epochs_then_fine_tuning(tmp_path, capsys):
    recorder = EncoderWeightsAtEpochEnds()
    out = tmp_path / "run"
    keras_segen.train(out=str(out), epochs=3, freeze_epochs=1, callbacks=[recorder],
                      **{**BACKBONE, "verbose": 1})  # fmt: skip
    assert "epoch 2: encoder unfrozen; every layer trains at 0.1 times" in capsys.readouterr().out
    start, frozen, *tuned = recorder.weights
    for got, want in zip(frozen, start):
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(got, want) for got, want in zip(tuned[-1], frozen))
    np.testing.assert_allclose(recorder.rates, [0.01, 0.001, 0.001], rtol=1e-6)
    config = run_config(out)
    assert (config["backbone"], config["freeze_epochs"]) == ("light", 1)
    best = keras.models.load_model(out / "best.keras")
    assert best.get_layer("encoder").trainable


def test_a_trainer_fine_tunes_its_encoder_after_the_frozen_phase(tmp_path):
    """The semi-supervised trainer (the adversarial ones share the path) gets a new
    segmenter optimizer when the encoder thaws, and keeps its discriminator's."""
    recorder = EncoderWeightsAtEpochEnds()
    keras_segen.train(out=str(tmp_path / "run"), epochs=2, freeze_epochs=1,
                      callbacks=[recorder], unlabeled="shapes", unlabeled_examples=8,
                      **BACKBONE)  # fmt: skip
    start, frozen, tuned = recorder.weights
    for got, want in zip(frozen, start):
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(got, want) for got, want in zip(tuned, frozen))
    np.testing.assert_allclose(recorder.rates, [0.01, 0.001], rtol=1e-6)


def test_resume_inside_the_frozen_phase_unfreezes_on_time(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        keras_segen.train(out=str(out), epochs=3, freeze_epochs=2,
                          callbacks=[InterruptAfterEpoch(1)], **BACKBONE)  # fmt: skip
    assert not keras.models.load_model(out / "last.keras").get_layer("encoder").trainable
    recorder = EncoderWeightsAtEpochEnds()
    keras_segen.resume(str(out), callbacks=[recorder], verbose=0)
    loaded, second, third = recorder.weights
    for got, want in zip(second, loaded):  # epoch 2 still frozen
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(got, want) for got, want in zip(third, second))
    np.testing.assert_allclose(recorder.rates, [0.01, 0.001], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="segnet", backbone="resnet50", model_kwargs={}),
         r"segnet: backbone must be one of \('vgg16',\)"),
        (dict(backbone="resnet34"), "backbone must be one of"),
        (dict(freeze_epochs=1), "freeze_epochs freezes an encoder: give a backbone"),
        (dict(backbone="light", freeze_epochs=2), r"freeze_epochs \(2\) must be shorter"),
        (dict(backbone="resnet50", weights="/no/such.h5"), "'/no/such.h5' does not exist"),
        (dict(backbone="light", fine_tune_factor=2.0), r"fine_tune_factor must be in \(0, 1\]"),
    ],
)
def test_bad_encoder_options(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.train(**{**TINY, "out": str(tmp_path / "run"), "epochs": 2, **kwargs})
    assert not (tmp_path / "run").exists()
