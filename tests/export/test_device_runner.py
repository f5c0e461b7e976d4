"""The on-device runner in export/: no TensorFlow, same preprocessing, same outputs."""

import importlib.util
import json
import pathlib
import tempfile
import types

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_segen
from keras_segen import export
from keras_segen.data import preprocess_image
from keras_segen.inference import segment_image
from keras_segen.runs.evaluation import save_mask
from tests.helpers import run_python

RUNNER = pathlib.Path(__file__).resolve().parents[2] / "export" / "runner.py"


def _runner_module():
    spec = importlib.util.spec_from_file_location("device_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _runner_module()


@pytest.mark.parametrize("source, target", [((37, 53), (32, 32)), ((20, 20), (64, 48))])
def test_resize_matches_the_library_preprocessing(source, target):
    image = np.random.default_rng(0).integers(0, 256, (*source, 3), dtype=np.uint8)
    expected = preprocess_image(tf.constant(image), target).numpy()
    np.testing.assert_allclose(runner.preprocess(image, *target), expected, atol=2e-6)


def test_png_codec_reads_what_pillow_writes_and_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    # Smooth content makes Pillow choose the Sub/Up/Average/Paeth filters too.
    ramp = np.linspace(0, 255, 24)[None, :, None] + rng.integers(0, 3, (16, 24, 3))
    image = np.clip(ramp, 0, 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "pillow.png", optimize=True)
    np.testing.assert_array_equal(runner.read_png(tmp_path / "pillow.png"), image)
    runner.write_png(tmp_path / "ours.png", image)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "ours.png")), image)
    grey = image[..., 0]
    Image.fromarray(grey).save(tmp_path / "grey.png")
    np.testing.assert_array_equal(runner.read_png(tmp_path / "grey.png")[..., 1], grey)


CITYSCAPES = [[128, 64, 128], [244, 35, 232], [70, 70, 70]]  # road, sidewalk, building


def _predict_palette(colours):
    """The palette of the mask PNG ``keras-segen predict`` writes with ``colours``."""
    with tempfile.TemporaryDirectory() as folder:
        save_mask(np.zeros((1, 1), np.int64), f"{folder}/mask.png", colours)
        with Image.open(f"{folder}/mask.png") as mask:
            return mask.getpalette()


@pytest.mark.parametrize("colours", [None, CITYSCAPES])
def test_masks_and_overlays_have_the_colours_of_predict(colours, tmp_path):
    labels = (np.arange(48).reshape(6, 8) % 23).astype(np.uint8)  # beyond the 20 colours: cycled
    save_mask(labels, tmp_path / "library.png", colours)
    runner.write_png(tmp_path / "runner.png", labels, runner.mask_palette(colours))
    library, ours = Image.open(tmp_path / "library.png"), Image.open(tmp_path / "runner.png")
    assert ours.mode == library.mode == "P"
    assert ours.getpalette() == library.getpalette()
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(library))
    np.testing.assert_array_equal(keras_segen.data.read_mask(tmp_path / "runner.png"), labels)
    image = np.random.default_rng(0).random((6, 8, 3)).astype(np.float32)
    expected = np.round(keras_segen.viz.overlay(image, labels, colours=colours) * 255)
    ours = runner.overlay(image, labels, colours=colours).astype(float)
    assert np.abs(ours - expected).max() <= 1  # float rounding of the blend


def _library_masks(path, images, mode):
    """What ``keras_segen.inference`` makes of the images with the same artifact."""
    artifact = types.SimpleNamespace(predict_on_batch=export.ArtifactRunner(path))
    return [segment_image(artifact, image, (32, 32), mode).argmax(-1) for image in images]


@pytest.mark.xdist_group("dcgan_generator")
def test_runner_without_tensorflow_reproduces_the_library(exports, tmp_path):
    model = keras_segen.unet((None, None, 3), 3, filters=4, depth=2)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(2)]
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"photo{index}.png")
    calibration = np.stack([preprocess_image(tf.constant(i), (32, 32)).numpy() for i in images])
    path = export.to_tflite(model, tmp_path / "u.tflite", "int8", calibration, (32, 32, 3),
                            int8_io=True)  # fmt: skip
    generator_path = exports.tflite("dcgan_generator")  # 8-d latent, 32x32x3
    (tmp_path / "config.json").write_text(json.dumps({"class_colours": CITYSCAPES}))
    output = run_python(f"""
import sys, importlib.util
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "keras_segen"):
            raise ImportError("blocked " + name)
sys.meta_path.insert(0, Block())
spec = importlib.util.spec_from_file_location("runner", {str(RUNNER)!r})
runner = importlib.util.module_from_spec(spec); spec.loader.exec_module(runner)
runner.main([{str(path)!r}, {str(folder)!r}, "--out", {str(tmp_path / "out")!r}])
runner.main([{str(path)!r}, {str(folder)!r}, "--out", {str(tmp_path / "resized")!r},
             "--mode", "resize", "--colours", {str(tmp_path / "config.json")!r}])
runner.main([{str(generator_path)!r}, "--generate", "3", "--out", {str(tmp_path / "gen")!r}])
runner.main([{str(path)!r}, "--benchmark", "--threads", "1", "--repeats", "5"])
print("loaded", sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
""")
    assert "loaded []" in output and "threads 1: p50" in output and "p99" in output
    tiled, resized = (_library_masks(path, images, mode) for mode in ("tile", "resize"))
    for index in range(2):  # 48x40 frames, larger than the 32x32 input: tiled by default
        mask = Image.open(tmp_path / "out" / f"photo{index}_mask.png")
        assert mask.getpalette() == _predict_palette(None)
        np.testing.assert_array_equal(np.asarray(mask), tiled[index])
        assert (tmp_path / "out" / f"photo{index}_overlay.png").is_file()
        mask = Image.open(tmp_path / "resized" / f"photo{index}_mask.png")
        assert mask.getpalette() == _predict_palette(CITYSCAPES)  # --colours config.json
        mask = np.asarray(mask)
        assert mask.shape == (40, 48)  # the logits resized back: agree up to float ties
        assert np.mean(mask == resized[index]) > 0.99
    latents = np.random.default_rng(0).normal(size=(3, 1, 8)).astype("float32")[:, 0]
    library = (export.ArtifactRunner(generator_path)(latents) + 1) / 2
    for index in range(3):
        drawn = np.asarray(Image.open(tmp_path / "gen" / f"sample_{index:03d}.png"))
        np.testing.assert_allclose(drawn / 255, np.clip(library[index], 0, 1), atol=1 / 255 + 1e-6)


@pytest.mark.xdist_group("conditional_generator")
def test_runner_cycles_the_classes_of_a_conditional_generator(exports):
    generator = exports.model("conditional_generator")  # 8-d latent, 3 classes
    model = runner.Model(str(exports.tflite("conditional_generator")))
    with pytest.raises(ValueError, match="class-conditional: give --num-classes"):
        model.generate(2)
    drawn = model.generate(4, seed=0, num_classes=3)
    rng = np.random.default_rng(0)
    latents = np.stack([rng.normal(size=(1, 8)).astype("float32")[0] for _ in range(4)])
    expected = (np.asarray(generator([latents, np.array([0, 1, 2, 0])])) + 1) / 2
    np.testing.assert_allclose(drawn, np.clip(expected, 0, 1), atol=1e-5)


def test_runner_tiles_a_large_frame_like_the_library():
    frame = np.random.default_rng(2).random((70, 100, 3)).astype(np.float32)
    pointwise = lambda tile: tile * 3.0  # noqa: E731
    ours = runner.sliding_window(frame, (32, 32), pointwise, overlap=0.5)
    library = keras_segen.inference.sliding_window(frame, (32, 32), lambda t: t * 3.0, 0.5)
    np.testing.assert_allclose(ours, library, atol=1e-6)
    np.testing.assert_allclose(ours, frame * 3.0, atol=1e-5)
    assert runner.tile_starts(100, 32, 16) == keras_segen.inference.tile_starts(100, 32, 16)
