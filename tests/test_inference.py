"""Whole-image segmentation: sliding-window tiles with blended logits, or one resize."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen import inference


def test_tiles_cover_the_frame_and_the_last_one_is_flush():
    assert inference.tile_starts(1024, 256, 128) == [0, 128, 256, 384, 512, 640, 768]
    assert inference.tile_starts(300, 256, 128) == [0, 44]
    assert inference.tile_starts(256, 256, 128) == [0]


def test_blend_weight_is_a_centre_peaked_ramp():
    weight = inference.tile_weight(2, 4)
    np.testing.assert_allclose(weight, np.outer([0.5, 0.5], [0.25, 0.75, 0.75, 0.25]))


def test_sliding_window_of_a_pointwise_model_reproduces_it_exactly():
    image = np.random.default_rng(0).random((45, 70, 3)).astype("float32")
    for overlap in (0.0, 0.25, 0.5):
        logits = inference.sliding_window(image, (16, 24), lambda tiles: 2 * tiles, overlap, 5)
        np.testing.assert_allclose(logits, 2 * image, atol=1e-6)
    small = image[:10, :12]  # smaller than a tile: edge-padded, then cropped back
    np.testing.assert_allclose(inference.sliding_window(small, (16, 24), lambda t: t), small)


def test_overlapping_tiles_blend_rather_than_overwrite():
    # A "model" that returns each tile's mean everywhere: overlapping tiles disagree, and a
    # pixel covered by two tiles gets their weighted average.
    image = np.zeros((1, 6, 1), np.float32)
    image[0, 4:] = 1.0
    means = lambda tiles: np.broadcast_to(tiles.mean(axis=(1, 2), keepdims=True), tiles.shape)  # noqa: E731
    logits = inference.sliding_window(image, (1, 4), means, overlap=0.5)
    # Tiles start at x = 0 (mean 0) and x = 2 (mean 0.5) with weights [.25, .75, .75, .25]:
    # column 2 is tile 0's third pixel (0.75) and tile 2's first (0.25), column 3 the reverse.
    expected_column_2 = (0.75 * 0.0 + 0.25 * 0.5) / (0.75 + 0.25)
    expected_column_3 = (0.25 * 0.0 + 0.75 * 0.5) / (0.25 + 0.75)
    np.testing.assert_allclose(
        logits[0, :, 0], [0, 0, expected_column_2, expected_column_3, 0.5, 0.5]
    )


def test_a_2048x1024_frame_predicts_through_a_256x256_model_by_tiles():
    inputs = keras.Input((256, 256, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 1, name="logits")(inputs))
    frame = np.random.default_rng(0).integers(0, 256, (1024, 2048, 3), dtype=np.uint8)
    logits = inference.segment_image(model, frame, (256, 256))
    assert logits.shape == (1024, 2048, 4)
    # A 1x1 convolution is pointwise, so tiling must reproduce it on the whole frame.
    kernel, bias = (np.asarray(w) for w in model.get_layer("logits").get_weights())
    expected = (frame.astype(np.float32) / 255.0) @ kernel[0, 0] + bias
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def test_resize_mode_runs_once_and_upsamples_the_logits():
    model = keras_segen.unet((32, 32, 3), 3, filters=4, depth=2)
    frame = np.random.default_rng(1).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    logits = inference.segment_image(model, frame, (32, 32), mode="resize")
    once = np.asarray(model(keras.ops.image.resize(frame[None] / 255.0, (32, 32))))[0]
    upsampled = np.asarray(keras.ops.image.resize(once[None], (64, 96)))[0]
    np.testing.assert_allclose(logits, upsampled, atol=1e-5)


def test_scale_resizes_before_tiling_and_returns_the_original_size():
    model = keras_segen.unet((32, 32, 3), 3, filters=4, depth=2)
    frame = np.zeros((64, 128, 3), np.uint8)
    assert inference.segment_image(model, frame, (32, 32), scale=0.5).shape == (64, 128, 3)


def test_bad_arguments():
    model = keras_segen.unet((32, 32, 3), 3, filters=4, depth=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        inference.segment_image(model, np.zeros((8, 8, 3), np.uint8), (32, 32), mode="slide")
    with pytest.raises(ValueError, match=r"overlap must be in \[0, 1\)"):
        inference.sliding_window(np.zeros((8, 8, 3)), (4, 4), lambda t: t, overlap=1.0)
