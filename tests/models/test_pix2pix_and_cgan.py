"""pix2pix U-Net, PatchGAN and the class-conditional builders: paper sizes, receptive field."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen.models.generation.pix2pix import patchgan_receptive_field


def _trainable_count(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def test_pix2pix_generator_at_256_follows_the_paper():
    generator = keras_segen.pix2pix_generator((256, 256, 3))
    encoder = [generator.get_layer(f"down{i}_conv").output.shape[1:] for i in range(1, 9)]
    # C64-C128-C256-C512-C512-C512-C512-C512, each halving the size down to 1x1.
    assert [tuple(shape) for shape in encoder] == [
        (128, 128, 64), (64, 64, 128), (32, 32, 256), (16, 16, 512),
        (8, 8, 512), (4, 4, 512), (2, 2, 512), (1, 1, 512),
    ]  # fmt: skip
    # Decoder after each skip concatenation: 1024, 1024, 1024, 1024, 512, 256, 128 channels.
    decoder = [generator.get_layer(f"up{i}_skip").output.shape[-1] for i in range(1, 8)]
    assert decoder == [1024, 1024, 1024, 1024, 512, 256, 128]
    dropouts = [layer.name for layer in generator.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == ["up1_dropout", "up2_dropout", "up3_dropout"]
    norms = {layer.name for layer in generator.layers if "_bn" in layer.name}
    assert "down1_bn" not in norms and "down8_bn" not in norms and "down2_bn" in norms
    # The reference implementation (unet_256, ngf=64) prints 54.414 M parameters.
    assert round(_trainable_count(generator) / 1e6, 3) == 54.414


@pytest.mark.parametrize(
    "size, blocks", [((16, 16), 4), ((32, 32), 5), ((64, 32), 5), ((128, 128), 7), ((512, 512), 8)]
)
def test_pix2pix_generator_down_blocks_follow_the_size(size, blocks):
    generator = keras_segen.pix2pix_generator((*size, 4), output_channels=3, filters=2)
    names = {layer.name for layer in generator.layers}
    assert f"down{blocks}_conv" in names and f"down{blocks + 1}_conv" not in names
    bottleneck = generator.get_layer(f"down{blocks}_conv").output.shape[1:3]
    assert tuple(bottleneck) == (size[0] // 2**blocks, size[1] // 2**blocks)
    images = keras.ops.convert_to_numpy(generator(np.zeros((1, *size, 4), "float32")))
    assert images.shape == (1, *size, 3) and np.all(np.abs(images) <= 1)


def test_patchgan_at_256_matches_the_reference():
    discriminator = keras_segen.patchgan_discriminator((256, 256, 3))
    assert tuple(discriminator.output.shape) == (None, 32, 32, 1)
    # The reference 'basic' discriminator (n_layers=3, 6 input channels) has 2.769 M.
    assert round(_trainable_count(discriminator) / 1e6, 3) == 2.769


@pytest.mark.parametrize("num_layers, field", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field(num_layers, field):
    """The gradient of one central logit reaches exactly a field x field input patch."""
    assert patchgan_receptive_field(num_layers) == field  # the paper's 16, 34 (?), 70
    size = 128
    discriminator = keras_segen.patchgan_discriminator(
        (size, size, 1), target_channels=1, filters=4, num_layers=num_layers, norm=None
    )
    for weight in discriminator.trainable_weights:  # positive weights: no cancellation
        weight.assign(np.abs(keras.ops.convert_to_numpy(weight)) + 0.01)
    source = tf.Variable(tf.random.uniform((1, size, size, 1)))
    target = tf.zeros((1, size, size, 1))
    with tf.GradientTape() as tape:
        logits = discriminator([source, target])
        centre = logits.shape[1] // 2
        picked = logits[0, centre, centre, 0]
    reached = np.argwhere(np.abs(tape.gradient(picked, source).numpy()[0, ..., 0]) > 0)
    extent = reached.max(axis=0) - reached.min(axis=0) + 1
    assert tuple(extent) == (field, field)


def test_label_to_image_shapes():
    generator = keras_segen.pix2pix_generator((64, 64, 4), output_channels=3, filters=4)
    discriminator = keras_segen.patchgan_discriminator((64, 64, 4), 3, filters=4)
    labels = keras.ops.one_hot(np.zeros((2, 64, 64), "int32"), 4)
    images = generator(labels)
    assert tuple(discriminator([labels, images]).shape) == (2, 8, 8, 1)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: keras_segen.pix2pix_generator((48, 48, 3)), "not a multiple of .* stride 32"),
        (lambda: keras_segen.pix2pix_generator((None, None, 3)), "fixed height and width"),
        (lambda: keras_segen.pix2pix_generator((8, 8, 3)), "must be >= 16"),
        (lambda: keras_segen.pix2pix_generator(dropout=1.0), "dropout must be a number"),
        (lambda: keras_segen.patchgan_discriminator((60, 60, 3)), "multiple of .* stride 8"),
        (lambda: keras_segen.patchgan_discriminator(norm="group"), "norm must be one of"),
        (lambda: keras_segen.conditional_generator(num_classes=0), "num_classes must be"),
        (lambda: keras_segen.conditional_generator(latent_dim=0), "latent_dim must be"),
        (lambda: keras_segen.conditional_discriminator(conditioning="x"), "conditioning must"),
        (lambda: keras_segen.conditional_discriminator((48, 48, 3)), "side in"),
    ],
)
def test_argument_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("size", [32, 64])
def test_conditional_generator_uses_the_label(size):
    generator = keras_segen.conditional_generator(8, 3, (size, size, 1), filters=4)
    latent = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    same_latent = np.repeat(latent[:1], 3, axis=0)
    images = keras.ops.convert_to_numpy(generator([same_latent, np.array([0, 1, 2])]))
    assert images.shape == (3, size, size, 1)
    assert not np.allclose(images[0], images[1]) and not np.allclose(images[1], images[2])


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_conditional_discriminator_uses_the_label(conditioning, tmp_path):
    critic = keras_segen.conditional_discriminator(
        (32, 32, 3), 3, filters=4, conditioning=conditioning
    )
    image = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    images = np.repeat(image, 3, axis=0)
    logits = keras.ops.convert_to_numpy(critic([images, np.array([0, 1, 2])]))
    assert logits.shape == (3, 1) and len(np.unique(logits.round(6))) == 3
    critic.save(tmp_path / "critic.keras")
    restored = keras.models.load_model(tmp_path / "critic.keras")
    np.testing.assert_allclose(restored([images, np.array([0, 1, 2])]), logits, atol=1e-6)


def test_registered():
    names = keras_segen.list_models("generation")
    for name in ("conditional_generator", "conditional_discriminator", "pix2pix_generator",
                 "patchgan_discriminator"):  # fmt: skip
        assert name in names
    assert "Isola" in keras_segen.model_entry("pix2pix_generator").paper
