"""Segment -> edit -> generate -> composite, and GAN-made training pairs."""

import functools
import json

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen import cli, pipelines
from tests.helpers import run_config

# Class colours of the hand-made generator below, in [0, 1].
COLOURS = np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "float32")


def colour_generator(size=None, num_classes=3):
    """One-hot label map -> the fixed colour of each class, as a tanh generator would ([-1, 1])."""
    one_hot = keras.Input((size, size, num_classes))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    image = conv(one_hot)
    conv.set_weights([(COLOURS[:num_classes] * 2 - 1)[None, None]])
    return keras.Model(one_hot, image)


def channel_segmenter(size=None):
    """Logits = the image itself: the predicted class of a pixel is its brightest channel."""
    image = keras.Input((size, size, 3))
    return keras.Model(image, keras.layers.Identity()(image))


def _two_region_image():
    image = np.zeros((8, 8, 3), "float32")
    image[:, :4, 0] = 0.9  # red left half -> class 0
    image[:, 4:, 1] = 0.9  # green right half -> class 1
    labels = np.zeros((8, 8), "int32")
    labels[:, 4:] = 1
    return image, labels


def test_segment_predicts_and_resizes_for_fixed_size_segmenters():
    image, labels = _two_region_image()
    np.testing.assert_array_equal(pipelines.segment(channel_segmenter(), image), labels)
    big = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)  # 16x16, segmenter fixed at 8
    expected = np.repeat(np.repeat(labels, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(pipelines.segment(channel_segmenter(8), big), expected)
    image_input = keras.Input((None, None, 3))
    binary = keras.Model(image_input, keras.layers.Lambda(lambda x: x[..., :1] - 0.5)(image_input))
    np.testing.assert_array_equal(pipelines.segment(binary, image), 1 - labels)  # red > 0.5
    with pytest.raises(ValueError, match=r"image must be \(H, W, 3\)"):
        pipelines.segment(channel_segmenter(), image[..., 0])
    with pytest.raises(ValueError, match=r"values must be in \[0, 1\]"):
        pipelines.segment(channel_segmenter(), image * 255)


def test_label_map_edits_by_hand():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    np.testing.assert_array_equal(
        pipelines.replace_classes(labels, {1: 2, 2: 1}), [[0, 2, 1], [1, 2, 0]]
    )
    np.testing.assert_array_equal(pipelines.remove_classes(labels, [1]), [[0, 0, 2], [2, 0, 0]])
    np.testing.assert_array_equal(
        pipelines.remove_classes(labels, [2], fill=1), [[0, 1, 1], [1, 1, 0]]
    )
    # Class 2 shifted one column right: (0,2) falls off the edge, (1,0) lands on (1,1).
    np.testing.assert_array_equal(
        pipelines.paste_region(labels, labels, [2], (0, 1)), [[0, 1, 2], [2, 2, 0]]
    )
    other = np.array([[3, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(
        pipelines.paste_region(labels, other, offset=(1, 2)), [[0, 1, 2], [2, 1, 3]]
    )
    np.testing.assert_array_equal(labels, [[0, 1, 2], [2, 1, 0]])  # inputs are not modified
    with pytest.raises(ValueError, match="differ in size"):
        pipelines.paste_region(labels, other[:1], offset=(0, 0))
    with pytest.raises(ValueError, match=r"integer \(H, W\) array"):
        pipelines.replace_classes(labels.astype(float), {1: 2})


def test_blend_mask_and_composite_by_hand():
    before = np.zeros((9, 9), "int32")
    after = before.copy()
    after[4, 4] = 1
    np.testing.assert_array_equal(pipelines.blend_mask(before, after, margin=0), after)
    alpha = pipelines.blend_mask(before, after, margin=1)
    # Grown to the 3x3 block, then a 3x3 box blur: 1 at the centre, 6/9 beside, 4/9 on the
    # diagonal, 3/9 and 2/9 one step further out, 1/9 at the far corners, 0 beyond.
    np.testing.assert_allclose(alpha[2:7, 4], [3 / 9, 6 / 9, 1, 6 / 9, 3 / 9], atol=1e-6)
    np.testing.assert_allclose([alpha[3, 3], alpha[2, 2], alpha[2, 3]], [4 / 9, 1 / 9, 2 / 9])
    assert alpha[1, 4] == 0 and alpha[4, 1] == 0
    image, generated = np.zeros((1, 3, 3), "float32"), np.ones((1, 3, 3), "float32")
    result = pipelines.composite(image, generated, np.array([[0.0, 0.5, 1.0]]))
    np.testing.assert_allclose(result[0, :, 0], [0.0, 0.5, 1.0])


def test_generate_from_label_maps_paints_and_resizes():
    labels = np.array([[[0, 1], [2, 255]]])
    images = pipelines.generate_from_label_maps(colour_generator(), labels)
    np.testing.assert_allclose(images[0, 0], COLOURS[:2], atol=1e-6)
    np.testing.assert_allclose(images[0, 1, 0], COLOURS[2], atol=1e-6)
    np.testing.assert_allclose(images[0, 1, 1], [0.5, 0.5, 0.5], atol=1e-6)  # ignored: zeros
    big = np.kron(np.array([[0, 1], [2, 0]]), np.ones((8, 8), "int32"))[None]  # 16x16
    painted = pipelines.generate_from_label_maps(colour_generator(size=8), big)
    assert painted.shape == (1, 16, 16, 3)
    np.testing.assert_allclose(painted[0, 2, 12], COLOURS[1], atol=1e-6)
    with pytest.raises(ValueError, match=r"classes \[0, 5\]; the generator knows 0..2"):
        pipelines.generate_from_label_maps(colour_generator(), np.array([[[0, 5]]]))
    with pytest.raises(ValueError, match=r"label_maps must be \(B, H, W\)"):
        pipelines.generate_from_label_maps(colour_generator(), np.zeros((2, 2)))


def test_pix2pix_trainers_are_accepted_only_in_the_label_direction():
    label_to_image = keras_segen.Pix2Pix(
        keras_segen.pix2pix_generator((16, 16, 3), filters=4),
        keras_segen.patchgan_discriminator((16, 16, 3), filters=4),
        num_classes=3,
    )
    network, classes = pipelines.label_to_image_generator(label_to_image)
    assert network is label_to_image.generator and classes == 3
    image_to_image = keras_segen.Pix2Pix(
        keras_segen.pix2pix_generator((16, 16, 3), filters=4),
        keras_segen.patchgan_discriminator((16, 16, 3), filters=4),
    )
    with pytest.raises(ValueError, match="translates images"):
        pipelines.label_to_image_generator(image_to_image)
    with pytest.raises(ValueError, match="must be a Pix2Pix trainer or a keras.Model"):
        pipelines.label_to_image_generator("generator.keras")


def test_edit_scene_regenerates_only_the_edited_region():
    image, labels = _two_region_image()
    remove_green = functools.partial(pipelines.replace_classes, mapping={1: 2})
    stages = pipelines.edit_scene(
        image, channel_segmenter(), colour_generator(), [remove_green], margin=0
    )
    np.testing.assert_array_equal(stages["label_map"], labels)
    np.testing.assert_array_equal(stages["edited_label_map"], np.where(labels == 1, 2, 0))
    np.testing.assert_allclose(stages["generated"][:, :4], np.broadcast_to(COLOURS[0], (8, 4, 3)))
    np.testing.assert_array_equal(stages["alpha"], labels.astype("float32"))
    # Left half untouched, right half now the generator's class-2 colour.
    np.testing.assert_allclose(stages["composite"][:, :4], image[:, :4])
    np.testing.assert_allclose(stages["composite"][:, 4:], np.broadcast_to(COLOURS[2], (8, 4, 3)))
    figure = keras_segen.viz.plot_scene_stages([stages, stages])
    assert len(figure.axes) == 12
    assert [axis.get_title() for axis in figure.axes[:6]] == list(
        keras_segen.viz.SCENE_STAGES.values()
    )

    unedited = pipelines.edit_scene(image, None, colour_generator(), label_map=labels)
    np.testing.assert_array_equal(unedited["alpha"], 0)
    np.testing.assert_allclose(unedited["composite"], image)


def test_synthetic_pairs_write_and_read_back(tmp_path):
    labels = np.zeros((3, 16, 16), "int32")
    labels[:, 4:10, 4:10] = [[[1]], [[2]], [[1]]]
    images, masks = pipelines.synthetic_pairs(colour_generator(), labels, 5, seed=1)
    assert images.shape == (5, 16, 16, 3) and masks.shape == (5, 16, 16)
    np.testing.assert_allclose(images, COLOURS[masks], atol=1e-6)  # each mask painted
    assert not np.array_equal(masks[:3], labels)  # perturbed
    plain_images, plain_masks = pipelines.synthetic_pairs(
        colour_generator(), labels, 5, perturb=False
    )
    np.testing.assert_array_equal(plain_masks, labels[[0, 1, 2, 0, 1]])  # cycled in order

    pipelines.write_pairs(images, masks, str(tmp_path))
    read = keras_segen.data.load_segmentation(
        str(tmp_path), "train", 16, batch_size=None, shuffle=False, num_classes=3
    )
    pairs = list(read)
    assert len(pairs) == 5
    for (image, mask), expected_image, expected_mask in zip(pairs, images, masks):
        np.testing.assert_array_equal(mask, expected_mask)
        np.testing.assert_allclose(image, expected_image, atol=0.5 / 255 + 1e-6)
    with pytest.raises(
        ValueError, match="already holds files; write generated pairs into an empty"
    ):
        pipelines.write_pairs(images, masks, str(tmp_path))
    with pytest.raises(ValueError, match="num must be a positive integer"):
        pipelines.synthetic_pairs(colour_generator(), labels, 0)


def test_synthesize_keeps_street_layouts(tmp_path):
    """On streets, synthesize perturbs with STREET_PERTURBATION: the sky stays on top."""
    from keras_segen.data.street_drawing import BUILDING, POLE, SKY, VEGETATION

    one_hot = keras.Input((32, 32, 8))
    painter = keras.Model(one_hot, keras.layers.Conv2D(3, 1, activation="tanh")(one_hot))
    generator = tmp_path / "paint.keras"
    painter.save(generator)
    out = pipelines.synthesize(str(generator), str(tmp_path / "pairs"), num=16,
                               dataset="streets", num_examples=8)  # fmt: skip
    saved = json.loads((tmp_path / "pairs" / "synthetic.json").read_text())
    assert saved["perturb"] == {"flip": "horizontal", "max_shift": 0.0, "paste_classes": [5, 6, 7]}
    masks = np.stack([m.numpy() for _, m in keras_segen.data.load_segmentation(
        out, "train", 32, batch_size=None, shuffle=False, num_classes=8)])  # fmt: skip
    assert len(masks) == 16 and np.isin(masks[:, 0], (SKY, BUILDING, VEGETATION, POLE)).all()
    assert (masks[:, -1] != SKY).all()
    # perturb=True on its own (the shapes setting) flips up-down too: skies at the bottom.
    _, flipped = pipelines.synthetic_pairs(painter, masks[:8], 16)
    assert (flipped[:, -1] == SKY).any()


def test_cli_synthesize_train_with_pairs_and_edit_scene(tmp_path, capsys):
    generator_run = tmp_path / "pix2pix"
    keras_segen.train_generation(
        "pix2pix", "shapes_coloured", epochs=1, batch_size=8, image_size=32, filters=4,
        d_filters=4, num_examples=8, test_examples=4, num_samples=2, out=str(generator_run),
        verbose=0,
    )  # fmt: skip
    synthetic = tmp_path / "synthetic"
    assert cli.main(["synthesize", str(generator_run), "--out", str(synthetic), "--num", "6"]) == 0
    assert "wrote 6 pairs" in capsys.readouterr().out
    assert len(list((synthetic / "images").iterdir())) == 6
    assert json.loads((synthetic / "synthetic.json").read_text())["label_maps"] == 8

    segmenter_run = tmp_path / "unet"
    arguments = [
        "train", "--dataset", "shapes_coloured", "--epochs", "1", "--image-size", "32",
        "--num-examples", "8", "--batch-size", "4", "--progress", "0", "--model-kwargs",
        '{"filters": 4, "depth": 2}', "--synthetic", str(synthetic), "--synthetic-ratio", "0.5",
        "--out", str(segmenter_run),
    ]  # fmt: skip
    assert cli.main(arguments) == 0
    history = keras_segen.runs.read_history(str(segmenter_run))
    assert history["epoch"] == [1]
    config = run_config(segmenter_run)
    assert (config["synthetic"], config["synthetic_ratio"]) == (str(synthetic), 0.5)

    figure = tmp_path / "scene.png"
    arguments = [
        "edit-scene", "--segmenter", str(segmenter_run), "--generator", str(generator_run),
        "--replace", "1:2", "--remove", "3", "--paste", "2:0,4", "--out", str(figure),
    ]  # fmt: skip
    assert cli.main(arguments) == 0
    assert figure.is_file() and (tmp_path / "scene_composite.png").is_file()

    # The generator part deploys like any other model: a label-map-input TFLite file.
    assert cli.main(["export", str(generator_run), "--out", str(tmp_path / "p2p.tflite")]) == 0
    exported = json.loads((tmp_path / "p2p.tflite.json").read_text())
    assert exported["psnr_db"] > 40 and exported["max_abs_diff"] < 1e-3
    assert keras_segen.export.inspect(str(tmp_path / "p2p.tflite"))["inputs"][0]["shape"] == [
        1, 32, 32, 4,
    ]  # fmt: skip

    assert cli.main([*arguments[:-2], "--image", str(tmp_path / "missing.png")]) == 2
    assert "missing.png does not exist" in capsys.readouterr().err
    (tmp_path / "text.png").write_text("not an image")
    assert cli.main([*arguments[:-2], "--image", str(tmp_path / "text.png")]) == 2
    assert "text.png: not a readable image file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["edit-scene", "--segmenter", "a", "--generator", "b", "--paste", "2:0"])


def test_train_requires_synthetic_and_ratio_together(tmp_path):
    with pytest.raises(ValueError, match="synthetic and synthetic_ratio go together"):
        keras_segen.train(out=str(tmp_path / "x"), synthetic=str(tmp_path))
    with pytest.raises(ValueError, match="synthetic and synthetic_ratio go together"):
        keras_segen.train(out=str(tmp_path / "x"), synthetic_ratio=0.5)
