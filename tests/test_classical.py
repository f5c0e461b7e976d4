"""Classical baselines on hand-made images whose answers are known."""

import numpy as np
import pytest
import tensorflow as tf

from keras_segen import classical


def _step(height=8, width=8, column=4, low=0.0, high=1.0):
    """Grey image: ``low`` left of ``column``, ``high`` from it on."""
    image = np.full((1, height, width, 1), low, np.float32)
    image[:, :, column:] = high
    return image


def test_sobel_on_a_unit_step_is_4_on_both_sides_of_it():
    magnitude = classical.sobel_edges(_step()).numpy()[0]
    expected = np.zeros((8, 8))
    expected[:, 3:5] = 4.0  # (1 + 2 + 1) on each side of the step
    np.testing.assert_allclose(magnitude, expected, atol=1e-6)


def test_roberts_on_a_unit_step_is_sqrt2_left_of_it():
    magnitude = classical.roberts_edges(_step()).numpy()[0]
    expected = np.zeros((8, 8))
    expected[:, 3] = np.sqrt(2.0)  # both diagonals cross the step once
    np.testing.assert_allclose(magnitude, expected, atol=1e-6)


def test_canny_gives_a_one_pixel_line_on_a_step():
    edges = classical.canny_edges(_step(16, 16, 8), sigma=1.0).numpy()[0]
    columns = np.argwhere(edges)[:, 1]
    assert edges.sum() == 16 and set(columns) == {8}


def test_canny_hysteresis_keeps_weak_edges_only_when_connected():
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[:, :8, 8:] = 1.0  # strong step, top half
    image[:, 8:, 8:] = 0.1  # weak continuation of it, bottom half
    image[:, 8:, :3] = 0.1  # isolated weak step on the left, bottom half
    edges = classical.canny_edges(image, sigma=0.0, low=0.2, high=1.0).numpy()[0]
    assert edges[:8, 8].all() and edges[9:, 8].all()  # strong line and its weak continuation
    assert not edges[:, :6].any()  # the isolated weak step (magnitude 0.4 < high) is gone
    with pytest.raises(ValueError, match="low <= high"):
        classical.canny_edges(image, low=0.5, high=0.1)


def test_kmeans_splits_a_two_colour_image():
    image = np.zeros((1, 6, 6, 3), np.float32)
    image[:, :, 3:] = [0.9, 0.1, 0.2]
    image[:, :, :3] = [0.1, 0.5, 0.9]
    clusters = classical.kmeans_segmentation(image, 2, seed=3).numpy()[0]
    assert len(np.unique(clusters[:, :3])) == len(np.unique(clusters[:, 3:])) == 1
    assert clusters[0, 0] != clusters[0, 5]


def test_edge_regions_and_majority_classes():
    edges = np.zeros((1, 4, 5), bool)
    edges[:, :, 2] = True  # a vertical wall splits two regions
    regions = classical.edge_regions(edges).numpy()[0]
    np.testing.assert_array_equal(regions[:, 2], -1)
    assert set(regions[:, :2].ravel()) == {0} and set(regions[:, 3:].ravel()) == {3}
    masks = np.zeros((1, 4, 5), np.int32)
    masks[:, :, 3:] = 2
    masks[:, 0, 4] = 1  # one dissenting pixel is outvoted
    labels = classical.majority_classes(regions[None], masks, 3).numpy()[0]
    expected = np.zeros((4, 5), np.int32)
    expected[:, 3:] = 2
    np.testing.assert_array_equal(labels, expected)


def test_runs_inside_tf_data():
    data = tf.data.Dataset.from_tensor_slices(_step(8, 8, 4)).batch(1)
    edges = next(iter(data.map(lambda x: classical.canny_edges(x, sigma=0.0))))
    assert edges.shape == (1, 8, 8) and edges.dtype == tf.bool


def test_slic_superpixels_do_not_straddle_a_colour_boundary():
    image = np.zeros((1, 16, 16, 3), np.float32)
    image[:, :, :8] = [0.9, 0.2, 0.1]
    image[:, :, 8:] = [0.1, 0.3, 0.9]
    superpixels = classical.slic_superpixels(image, num_segments=16).numpy()
    assert len(np.unique(superpixels)) > 2  # several superpixels per half
    halves = (np.arange(16) >= 8).astype(np.int32)[None, None].repeat(16, axis=1)
    labels = classical.majority_classes(superpixels, halves, 2).numpy()
    np.testing.assert_array_equal(labels, halves)  # every superpixel is pure


def test_keras_layer_wraps_every_method_and_saves(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    layer = classical.ClassicalBaseline("canny", {"sigma": 0.0})
    model = keras.Model(inputs, layer(inputs))
    image = np.repeat(_step(8, 8, 4), 3, axis=-1)
    np.testing.assert_array_equal(model(image), classical.canny_edges(image, sigma=0.0))
    model.save(tmp_path / "canny.keras")
    restored = keras.models.load_model(tmp_path / "canny.keras")
    np.testing.assert_array_equal(restored(image), model(image))
    with pytest.raises(ValueError, match="method must be one of"):
        classical.ClassicalBaseline("watershed")
