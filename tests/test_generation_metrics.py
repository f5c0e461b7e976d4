"""Generation metrics against closed forms and hand-worked cases."""

import keras
import numpy as np
import pytest

from keras_segen import metrics


def test_fid_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(200, 16))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_closed_forms():
    # Identity vs [[2, 1], [1, 2]] (eigenvalues 3 and 1), same mean:
    # tr(I + A - 2 A^1/2) = sum (1 - sqrt(lambda))^2 = (1 - sqrt 3)^2 = 4 - 2 sqrt 3.
    value = metrics.frechet_distance_from_statistics(
        np.zeros(2), np.eye(2), np.zeros(2), np.array([[2.0, 1.0], [1.0, 2.0]])
    )
    assert value == pytest.approx(4 - 2 * np.sqrt(3), rel=1e-9)
    # Diagonal Gaussians: |m1 - m2|^2 + sum (s1 + s2 - 2 sqrt(s1 s2)) with variances s.
    value = metrics.frechet_distance_from_statistics(
        [0, 0], np.diag([1, 4]), [3, 4], np.diag([9, 1])
    )
    assert value == pytest.approx(25 + (1 + 9 - 6) + (4 + 1 - 4))


def test_fid_of_sampled_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(50_000, 3))
    b = rng.normal([1.0, 0.0, -1.0], [2.0, 1.0, 0.5], size=(50_000, 3))
    expected = 2 + (1 + 4 - 4) + 0 + (1 + 0.25 - 1)  # = 3.25
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_kid_by_hand():
    # One-dimensional features 1 (real) and 0 (generated): k = (x y + 1)^3 gives
    # k_xx = 8, k_yy = 1, k_xy = 1, so MMD^2 = 8 + 1 - 2 = 7 on every subset.
    mean, std = metrics.kernel_inception_distance(np.ones((5, 1)), np.zeros((5, 1)), 3, 4)
    assert (mean, std) == (pytest.approx(7.0), pytest.approx(0.0))
    same = np.random.default_rng(0).normal(size=(400, 8))
    other = np.random.default_rng(1).normal(size=(400, 8))
    assert abs(metrics.kernel_inception_distance(same, other, 10, 200)[0]) < 0.05
    assert metrics.kernel_inception_distance(same, other + 1.0, 10, 200)[0] > 0.5


def test_inception_score_bounds():
    confident = np.eye(4)[np.arange(8) % 4]  # confident and every class equally often
    assert metrics.inception_score(confident, splits=2)[0] == pytest.approx(4.0, rel=1e-6)
    assert metrics.inception_score(np.full((8, 4), 0.25), splits=2)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.inception_score(np.ones((4, 4)))


def test_psnr_and_ssim():
    zeros = np.zeros((2, 16, 16, 3), "float32")
    # MSE 0.01 with peak 2: 10 log10(4 / 0.01) = 26.0206 dB; with peak 1: 20 dB.
    assert metrics.psnr(zeros + 0.1, zeros) == pytest.approx(10 * np.log10(400), rel=1e-5)
    assert metrics.psnr(zeros + 0.1, zeros, value_range=(0, 1)) == pytest.approx(20.0, rel=1e-5)
    noise = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    assert metrics.ssim(noise, noise) == pytest.approx(1.0)
    # Flat images have no structure term: luminance only. In [0, 1], 0.5 vs 0:
    # (0 + c1) / (0.25 + 0 + c1) with c1 = (0.01 * 1)^2.
    assert metrics.ssim(zeros + 0.5, zeros, (0, 1)) == pytest.approx(1e-4 / 0.2501, rel=1e-9)
    # In [-1, 1], 0.05 vs -0.05 are 1.05 vs 0.95 above the floor, c1 = (0.01 * 2)^2:
    # (2 * 1.05 * 0.95 + 4e-4) / (1.05^2 + 0.95^2 + 4e-4) = 1.9954 / 2.0054 (0.995; the
    # same images in [0, 1], 0.525 vs 0.475, give 0.49885 / 0.50135, the same number).
    assert metrics.ssim(zeros + 0.05, zeros - 0.05) == pytest.approx(1.9954 / 2.0054, rel=1e-9)
    other = np.random.default_rng(1).uniform(-1, 1, noise.shape).astype("float32")
    assert abs(metrics.ssim(noise, other)) < 0.1  # independent noise: no shared structure
    # The same images in [0, 1] and in [-1, 1] score the same.
    shifted = metrics.ssim((noise + 1) / 2, (other + 1) / 2, value_range=(0, 1))
    assert metrics.ssim(noise, other) == pytest.approx(shifted, rel=1e-6)  # float32 inputs
    with pytest.raises(ValueError, match="low < high"):
        metrics.ssim(noise, other, value_range=(1, -1))
    with pytest.raises(ValueError, match="same"):
        metrics.psnr(zeros, zeros[:1])


def test_novelty_exposes_memorisation():
    training = np.array([[0.0, 0.0], [10.0, 0.0]])
    assert metrics.novelty_score(training.copy(), training)["novelty"] == 0.0
    generated = np.array([[3.0, 4.0], [10.0, 1.0]])  # nearest distances 5 and 1
    held_out = np.array([[0.0, 2.0], [10.0, 2.0]])  # 2 and 2
    report = metrics.novelty_score(generated, training, held_out)
    assert report == {"novelty": 3.0, "held_out_novelty": 2.0, "ratio": 1.5}


def test_feature_extractor_maps_range_size_and_channels():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))
    extractor = metrics.FeatureExtractor(model, (8, 8), "mean colour", input_range=(0, 255))
    images = np.full((5, 4, 4, 1), 1.0, "float32")  # white in [-1, 1]
    features = extractor(images, batch_size=2)
    np.testing.assert_allclose(features, np.full((5, 3), 255.0), rtol=1e-6)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(5)))
    np.testing.assert_allclose(extractor(dataset), features)


def test_generation_report_with_an_untrained_inception_is_labelled():
    extractor = metrics.inception_extractor(weights=None)
    assert extractor.model.output.shape[-1] == 2048 and not extractor.standard
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (6, 32, 32, 3)).astype("float32")
    report = metrics.generation_report(real, real[::-1], extractor, training_images=real)
    assert report["fid"] == pytest.approx(0.0, abs=1e-3)
    assert report["novelty"] == pytest.approx(0.0, abs=1e-3)
    assert report["comparable_with_published_fid"] is False
    assert "random weights" in report["feature_extractor"]


@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0)])
def test_ssim_equals_scikit_image(value_range):
    structural_similarity = pytest.importorskip("skimage.metrics").structural_similarity
    low, high = value_range
    rng = np.random.default_rng(3)
    images = rng.uniform(low, high, (3, 24, 20, 3))
    noisy = np.clip(images + rng.normal(0, 0.2 * (high - low), images.shape), low, high)
    expected = np.mean([
        structural_similarity(
            (a - low) / (high - low), (b - low) / (high - low), data_range=1.0,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=-1,
        )
        for a, b in zip(images, noisy)
    ])
    assert metrics.ssim(images, noisy, value_range) == pytest.approx(expected, abs=1e-12)
