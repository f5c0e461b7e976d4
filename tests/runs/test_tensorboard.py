"""TensorBoard logs of run directories: scalars, learning rates, images; --no-tensorboard."""

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import keras_segen
from keras_segen import cli


def read_events(folder):
    """``{tag: [(step, value or image shape)]}`` of the event files in ``folder``."""
    import tensorflow as tf

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    read = {}
    for tag in events.Tags()["tensors"]:
        for event in events.Tensors(tag):
            value = tf.make_ndarray(event.tensor_proto)
            read.setdefault(tag, []).append((event.step, value))
    return read


def test_segmentation_run_logs_scalars_learning_rate_and_overlays(tmp_path):
    out = tmp_path / "run"
    keras_segen.train(
        "unet", epochs=2, image_size=32, batch_size=8, num_examples=16, validation_examples=8,
        model_kwargs={"filters": 4, "depth": 2}, learning_rate=1e-2, out=str(out), verbose=0,
    )  # fmt: skip
    train, validation = (
        read_events(out / "logs" / "train"),
        read_events(out / "logs" / "validation"),
    )
    assert {"epoch_loss", "epoch_mean_iou", "epoch_learning_rate"} <= set(train)
    assert {"epoch_loss", "epoch_mean_iou"} <= set(validation)
    history = keras_segen.runs.read_history(str(out))
    logged = [float(value) for _, value in validation["epoch_mean_iou"]]
    np.testing.assert_allclose(logged, history["val_mean_iou"], rtol=1e-6)
    # Cosine decay from 1e-2 over 2 epochs x 2 steps: after 2 steps, 1e-2 * (1 + cos(pi/2)) / 2.
    steps, rates = zip(*train["epoch_learning_rate"])
    assert steps == (0, 1)
    np.testing.assert_allclose([float(r) for r in rates], [5e-3, 0.0], atol=1e-7)
    # One overlay figure per epoch, stored as an encoded PNG: [width, height, png bytes].
    images = train["predictions"]
    assert [step for step, _ in images] == [0, 1]
    assert images[0][1][2][:8] == b"\x89PNG\r\n\x1a\n"


def test_generation_run_logs_both_learning_rates_and_the_sample_grid(tmp_path):
    out = tmp_path / "gan"
    keras_segen.train_generation(
        "dcgan", epochs=1, batch_size=8, image_size=32, latent_dim=8, filters=4, d_filters=4,
        num_examples=16, num_samples=4, learning_rate=3e-4, out=str(out), verbose=0,
    )  # fmt: skip
    train = read_events(out / "logs" / "train")
    assert {"epoch_g_loss", "epoch_d_loss", "samples"} <= set(train)
    assert "epoch_learning_rate" not in train  # the trainer's unused default optimizer
    for key in ("epoch_g_learning_rate", "epoch_d_learning_rate"):
        assert float(train[key][0][1]) == pytest.approx(3e-4)
    assert not (out / "logs" / "validation").exists()


def test_no_tensorboard_writes_no_logs(tmp_path):
    out = tmp_path / "run"
    argv = [
        "train", "--epochs", "1", "--image-size", "32", "--num-examples", "16",
        "--batch-size", "8", "--progress", "0", "--model-kwargs", '{"filters": 4, "depth": 2}',
        "--no-tensorboard", "--out", str(out),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    assert (out / "best.keras").is_file() and not (out / "logs").exists()
