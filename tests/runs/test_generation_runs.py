"""Generation run directories, resume, generate, the CLI, and the image datasets."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

import keras_segen
from keras_segen import cli
from tests.helpers import run_config

TINY = dict(
    epochs=1, batch_size=8, image_size=32, latent_dim=8, filters=4, d_filters=4,
    num_examples=16, test_examples=8, num_samples=4, verbose=0,
)  # fmt: skip


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp", "cgan", "vae", "pix2pix", "spade"])
def test_every_model_trains_into_a_run_directory(model, tmp_path):
    out = tmp_path / model
    size = 64 if model == "spade" else 32  # SPADE's smallest size
    history = keras_segen.train_generation(model, "shapes", out=str(out),
                                           **{**TINY, "image_size": size})  # fmt: skip
    assert history["epoch"] == [1] and all(np.isfinite(v).all() for v in history.values())
    for name in ("config.json", "last.keras", "history.csv", "state.json", "curves.png"):
        assert (out / name).is_file()
    assert (out / "samples" / "samples_epoch001.png").is_file()
    config = run_config(out)
    assert config["num_classes"] == {"cgan": 3, "pix2pix": 4, "spade": 4}.get(model)
    report = json.loads((out / "metrics.json").read_text())
    fid_keys = {"fid", "kid", "fid_images", "fid_features", "fid_comparable_with_published"}
    paired = model in ("pix2pix", "spade")
    paired_keys = {"l1", "psnr", "ssim", "images"} if paired else set()
    assert set(report) == fid_keys | paired_keys and report.get("images", 8) == 8
    # The 8 held-out shapes (test_examples) against as many samples, on offline features.
    assert report["fid_images"] == 8 and report["fid"] > 0
    assert report["fid_features"].startswith("shapes_features")
    assert report["fid_comparable_with_published"] is False
    images = keras_segen.generate(str(out), num=4, out=str(tmp_path / "grid.png"))
    assert images.shape == (4, size, size, 3) and np.abs(images).max() <= 1
    assert (tmp_path / "grid.png").is_file()


def test_end_of_run_fid_features(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache: no InceptionV3 weights
    assert keras_segen.runs.fid_extractor("auto", "my_photos") == (None, [
        "no FID at the end: InceptionV3's ImageNet weights are not in Keras' cache "
        "(inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5); --fid inception downloads "
        "them, --fid shapes uses offline features of shapes-like images"
    ])  # fmt: skip
    assert keras_segen.runs.fid_extractor("none", "shapes") == (None, [])
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5").touch()
    from keras_segen.runs import generation_report

    assert generation_report.inception_weights_cached()
    with pytest.raises(ValueError, match="fid must be one of 'auto', 'shapes', 'inception'"):
        keras_segen.train_generation("dcgan", fid="fast", out=str(tmp_path / "x"), **TINY)
    assert not (tmp_path / "x").exists()
    out = tmp_path / "run"
    keras_segen.train_generation("dcgan", fid="none", out=str(out), **{**TINY, "verbose": 1})
    assert not (out / "metrics.json").exists() and "FID" not in capsys.readouterr().out


def test_resume_continues_with_optimizer_state(tmp_path):
    out = str(tmp_path / "run")
    keras_segen.train_generation("dcgan", out=out, **TINY)
    history = keras_segen.resume_generation(out, epochs=2, verbose=0)
    assert history["epoch"] == [1, 2]
    trainer = keras.models.load_model(f"{out}/last.keras")
    assert int(trainer.g_optimizer.iterations) == 4  # 2 epochs x 2 batches
    with pytest.raises(ValueError, match="is a generation run; use resume_generation"):
        keras_segen.resume(out)
    with pytest.raises(ValueError, match="already holds a run"):
        keras_segen.train_generation("dcgan", out=out, **TINY)


def test_cli_train_gan_and_generate(tmp_path, capsys):
    out = str(tmp_path / "cgan")
    argv = ["train-gan", "--model", "cgan", "--epochs", "1", "--image-size", "32",
            "--num-examples", "8", "--batch-size", "8", "--filters", "4", "--d-filters", "4",
            "--latent-dim", "8", "--out", out, "--progress", "0"]  # fmt: skip
    assert cli.main(argv) == 0
    grid = str(tmp_path / "grid.png")
    assert cli.main(["generate", out, "--num", "3", "--labels", "2,1,0", "--out", grid]) == 0
    assert Image.open(grid).size[0] > 0
    assert cli.main(["generate", out, "--num", "2", "--labels", "0,5", "--out", grid]) == 2
    assert "labels must be 2 ints in [0, 3)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="stylegan"), "model must be one of"),
        (dict(model="dcgan", image_size=48), "image_shape must be square with a side in"),
        (dict(model="dcgan", epochs=0), "epochs must be a positive integer"),
    ],
)
def test_argument_errors(kwargs, match, tmp_path):
    settings = {**TINY, **kwargs}
    with pytest.raises(ValueError, match=match):
        keras_segen.train_generation(out=str(tmp_path / "x"), **settings)


def test_shapes_images_are_labelled_with_their_dominant_shape():
    dataset, info = keras_segen.data.load_images(
        "shapes", "test", 32, 4, labels=True, num_examples=8, with_info=True
    )
    assert info.class_names == ("circle", "rectangle", "triangle")
    images, labels = next(iter(dataset))
    assert images.shape == (4, 32, 32, 3) and float(np.min(images)) >= -1
    for index in range(4):
        _, mask = keras_segen.data.shapes_example(2 * 10**6 + index, 32)
        areas = np.bincount(mask.ravel(), minlength=4)[1:]
        assert int(labels[index]) == int(np.argmax(areas))


def test_folder_of_class_subfolders(tmp_path):
    for name, value in (("cats", 0), ("dogs", 255)):
        (tmp_path / name).mkdir()
        for index in range(3):
            Image.fromarray(np.full((10, 12, 3), value, np.uint8)).save(
                tmp_path / name / f"{index}.png"
            )
    dataset, info = keras_segen.data.load_images(
        str(tmp_path), image_size=8, batch_size=6, channels=1, labels=True, shuffle=False,
        with_info=True,
    )  # fmt: skip
    images, labels = next(iter(dataset))
    assert info.class_names == ("cats", "dogs") and images.shape == (6, 8, 8, 1)
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(images[:, 0, 0, 0], [-1, -1, -1, 1, 1, 1], atol=1e-6)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "loose.png")
    with pytest.raises(ValueError, match="in no class folder"):
        keras_segen.data.load_images(str(tmp_path), labels=True)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        keras_segen.data.load_images(str(tmp_path), channels=2)


def test_tfds_images_with_class_labels():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=4):
        dataset, info = keras_segen.data.load_images(
            "mnist", "train", 32, 4, labels=True, shuffle=False, with_info=True
        )
        images, labels = next(iter(dataset))
    assert info.num_classes == 10 and images.shape == (4, 32, 32, 3)  # grey -> RGB
    assert labels.dtype == "int32" and float(np.max(np.abs(images))) <= 1.0
    with pytest.raises(ValueError, match="Unknown dataset 'no_such_dataset'"):
        keras_segen.data.load_images("no_such_dataset")


def test_the_discriminator_takes_its_own_learning_rate_ttur():
    from keras_segen.runs.config import RunConfig
    from keras_segen.runs.generation import build_trainer, choose_recipe_defaults
    from keras_segen.trainers import get_recipe

    config = RunConfig.from_kwargs(
        "generation", model="wgan-gp", image_size=32, filters=4, d_filters=4,
        learning_rate=1e-4, d_learning_rate=4e-4,
    )  # fmt: skip
    choose_recipe_defaults(config)
    trainer = build_trainer(get_recipe("wgan-gp"), config, num_classes=None)
    rates = [float(keras.ops.convert_to_numpy(o.learning_rate))
             for o in (trainer.d_optimizer, trainer.g_optimizer)]  # fmt: skip
    assert rates == pytest.approx([4e-4, 1e-4])
    config = RunConfig.from_kwargs("generation", model="dcgan", filters=4, d_filters=4)
    choose_recipe_defaults(config)  # no rate of its own: the generator's
    trainer = build_trainer(get_recipe("dcgan"), config, num_classes=None)
    assert float(trainer.d_optimizer.learning_rate) == float(trainer.g_optimizer.learning_rate)
