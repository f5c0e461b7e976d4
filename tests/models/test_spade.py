"""SPADE's layers and networks: values worked out by hand, the authors' layouts, errors.

The networks were also compared with NVlabs/SPADE's PyTorch modules, weights copied, by
``benchmarks/spade_reference.py`` (outputs within 1e-5); the paper presets' parameter
counts are checked in test_paper_presets.py.
"""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import SPADE, AveragePoolingExcludingPadding2D, nearest_resize_like_torch


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_nearest_resize_takes_floor_of_i_times_scale_like_pytorch():
    grid = np.arange(30, dtype="float32").reshape(1, 5, 6, 1)
    # 5 -> 3 rows: floor(i * 5 / 3) = 0, 1, 3; 6 -> 2 columns: 0, 3.
    assert numpy(nearest_resize_like_torch(grid, 3, 2))[0, :, :, 0].tolist() == [
        [0, 3], [6, 9], [18, 21]
    ]  # fmt: skip
    assert numpy(nearest_resize_like_torch(grid, 5, 6)).tolist() == grid.tolist()


def test_average_pooling_counts_only_real_pixels_at_the_borders():
    image = np.ones((1, 5, 5, 1), "float32")
    image[0, 0, 0, 0] = 10.0  # a corner window holds 4 real pixels, an edge window 6
    pooled = numpy(AveragePoolingExcludingPadding2D(3, 2, 1)(image))[0, :, :, 0]
    assert pooled.shape == (3, 3)  # floor((5 + 2 - 3) / 2) + 1
    np.testing.assert_allclose(pooled[0, 0], (10 + 3) / 4)
    np.testing.assert_allclose(pooled[1:, 1:], 1.0)  # padding never pulls an average down


def test_spade_modulates_the_normalised_features_per_pixel_class():
    """kernel 1 and identity shared weights: a pixel of class k gets gamma_k and beta_k."""
    classes, channels = 3, 2
    spade = SPADE(hidden=classes, kernel_size=1, norm="instance")
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (2, 4, 4, channels)).astype("float32")
    labels = rng.integers(0, classes, (2, 8, 8))
    one_hot = np.eye(classes, dtype="float32")[labels]
    spade([x, one_hot])
    gamma = np.array([0.5, -0.5, 2.0], "float32")
    beta = np.array([1.0, 0.0, -3.0], "float32")
    spade.shared.set_weights([np.eye(classes, dtype="float32")[None, None], np.zeros(classes)])
    spade.gamma.set_weights([np.repeat(gamma[:, None], channels, 1)[None, None],
                             np.zeros(channels)])  # fmt: skip
    spade.beta.set_weights([np.repeat(beta[:, None], channels, 1)[None, None],
                            np.zeros(channels)])  # fmt: skip
    mean = x.mean(axis=(1, 2), keepdims=True)
    normalised = (x - mean) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    small = labels[:, ::2, ::2]  # PyTorch's nearest at a factor of 2
    expected = normalised * (1 + gamma[small][..., None]) + beta[small][..., None]
    np.testing.assert_allclose(numpy(spade([x, one_hot])), expected, atol=1e-4)


def test_spade_batch_norm_has_no_affine_parameters_and_tracks_statistics():
    spade = SPADE(hidden=4)
    spade([np.zeros((1, 4, 4, 6)), np.zeros((1, 4, 4, 3))])
    paths = sorted(weight.path.split("/", 1)[1] for weight in spade.non_trainable_weights)
    assert paths == ["norm/moving_mean", "norm/moving_variance"]
    assert not any("norm" in weight.path for weight in spade.trainable_weights)


@pytest.mark.parametrize(
    "upsampling, size, blocks",
    [
        ("normal", 64, 7),
        # 'more' upsamples once more between G_middle_0 and G_middle_1: the first block
        # works at H / 64; 'most' adds up_4 (filters / 2) at full size.
        ("more", 128, 7),
        ("most", 256, 8),
    ],
)
def test_generator_layouts(upsampling, size, blocks):
    generator = keras_segen.spade_generator(
        (size, size, 3), filters=4, num_upsampling_layers=upsampling, hidden=4
    )
    assert generator.output_shape == (None, size, size, 3)
    assert generator.get_layer("fc").output.shape == (None, 2, 2, 64)
    adds = [layer.name for layer in generator.layers if layer.name.endswith("_add")]
    assert len(adds) == blocks
    widths = [generator.get_layer(name).output.shape[-1] for name in adds]
    assert widths == [64, 64, 64, 32, 16, 8, 4] + [2] * (blocks == 8)
    if upsampling == "more":
        assert generator.get_layer("G_middle_1_add").output.shape[1] == 8


def test_saved_generator_reloads_with_the_same_images(tmp_path):
    generator = keras_segen.get_model("spade_generator", "tiny")
    labels = np.eye(4, dtype="float32")[np.random.default_rng(0).integers(0, 4, (2, 64, 64))]
    path = tmp_path / "spade.keras"
    generator.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(numpy(restored(labels)), numpy(generator(labels)))


@pytest.mark.parametrize(
    "builder, kwargs, match",
    [
        (keras_segen.spade_generator, dict(input_shape=(48, 48, 4)),
         r"height 48 is not a multiple of the model's total stride 32"),
        (keras_segen.spade_generator, dict(input_shape=(32, 64, 4)),
         r"32x64 starts the generator at 1x2 .* at least 2x2 .* Use H and W >= 64"),
        (keras_segen.spade_generator, dict(input_shape=(None, None, 4)), "fixed height"),
        (keras_segen.spade_generator, dict(num_upsampling_layers="many"),
         "num_upsampling_layers must be one of"),
        (keras_segen.spade_generator, dict(norm="layer"), "norm must be one of"),
        (keras_segen.spade_discriminator, dict(num_layers=1), "num_layers"),
        (keras_segen.spade_discriminator, dict(norm="batch"), "norm must be one of"),
    ],
)  # fmt: skip
def test_builder_errors(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
