"""DCGAN builders: the paper's layer sizes, sizes 32-256, 1 or 3 channels, savable."""

import keras
import numpy as np
import pytest

import keras_segen


def test_paper_generator_at_64x64():
    generator = keras_segen.dcgan_generator(latent_dim=100, image_shape=(64, 64, 3))
    shapes = [
        tuple(generator.get_layer(name).output.shape[1:])
        for name in ("reshape", "up1_conv", "up2_conv", "up3_conv", "up4_conv")
    ]
    # Fig. 1 of the paper: 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x3.
    assert shapes == [(4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 3)]
    batch_norms = [
        layer.name
        for layer in generator.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert batch_norms == ["project_bn", "up1_bn", "up2_bn", "up3_bn"]  # not on the output


def test_paper_discriminator_at_64x64():
    discriminator = keras_segen.dcgan_discriminator((64, 64, 3))
    widths = [discriminator.get_layer(f"down{i}_conv").output.shape[1:] for i in range(1, 5)]
    assert [tuple(w) for w in widths] == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512)]
    names = {layer.name for layer in discriminator.layers}
    assert "down1_bn" not in names and {"down2_bn", "down3_bn", "down4_bn"} <= names
    assert discriminator.get_layer("down1_lrelu").negative_slope == pytest.approx(0.2)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_size_and_channel_count(size, channels):
    generator = keras_segen.dcgan_generator(8, (size, size, channels), filters=4)
    discriminator = keras_segen.dcgan_discriminator((size, size, channels), filters=4)
    images = keras.ops.convert_to_numpy(generator(np.random.normal(size=(2, 8))))
    assert images.shape == (2, size, size, channels)
    assert np.all(np.abs(images) <= 1.0)  # tanh
    assert tuple(discriminator(images).shape) == (2, 1)


def test_weights_start_from_normal_0_02():
    generator = keras_segen.dcgan_generator(100, (64, 64, 3))
    kernel = keras.ops.convert_to_numpy(generator.get_layer("up1_conv").kernel)
    assert abs(kernel.mean()) < 1e-3 and kernel.std() == pytest.approx(0.02, rel=0.05)


@pytest.mark.parametrize("norm", ["layer", None])
def test_critic_without_batch_norm(norm):
    critic = keras_segen.dcgan_discriminator((32, 32, 3), filters=4, norm=norm)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in critic.layers)


def test_round_trip_and_registry(tmp_path):
    generator = keras_segen.get_model(
        "dcgan_generator", latent_dim=8, image_shape=(32, 32, 1), filters=4
    )
    generator.save(tmp_path / "g.keras")
    restored = keras.models.load_model(tmp_path / "g.keras")
    z = np.random.normal(size=(3, 8)).astype("float32")
    np.testing.assert_array_equal(np.asarray(generator(z)), np.asarray(restored(z)))
    assert {"dcgan_discriminator", "dcgan_generator"} <= set(keras_segen.list_models("generation"))


def test_mixed_precision_outputs_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    generator = keras_segen.dcgan_generator(8, (32, 32, 3), filters=4)
    discriminator = keras_segen.dcgan_discriminator((32, 32, 3), filters=4)
    images = generator(np.zeros((1, 8), "float32"))
    assert keras.backend.standardize_dtype(images.dtype) == "float32"
    assert keras.backend.standardize_dtype(discriminator(images).dtype) == "float32"


@pytest.mark.parametrize(
    "build, match",
    [
        (
            lambda: keras_segen.dcgan_generator(image_shape=(48, 48, 3)),
            "side in \\(32, 64, 128, 256\\)",
        ),
        (lambda: keras_segen.dcgan_generator(image_shape=(64, 32, 3)), "must be square"),
        (lambda: keras_segen.dcgan_generator(image_shape=(64, 64, 4)), "channels must be 1 or 3"),
        (lambda: keras_segen.dcgan_generator(latent_dim=0), "latent_dim must be an integer >= 1"),
        (lambda: keras_segen.dcgan_discriminator(image_shape=(64, 64)), "image_shape must be"),
        (lambda: keras_segen.dcgan_discriminator(norm="instance"), "norm must be one of"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()
