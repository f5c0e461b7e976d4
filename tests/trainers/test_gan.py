"""The GAN trainer: losses by hand, the gradient penalty of a linear critic, fit, EMA, saving."""

import math

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.trainers.gan import discriminator_loss, generator_loss

LN2 = math.log(2.0)


def _value(x):
    return float(keras.ops.convert_to_numpy(x))


def test_losses_by_hand():
    zeros = np.zeros((4, 1), "float32")
    assert _value(discriminator_loss(zeros, zeros, "bce")) == pytest.approx(2 * LN2)
    assert _value(generator_loss(zeros, "bce")) == pytest.approx(LN2)
    # Smoothed real target 0.9 at logit 0 still costs ln 2 (sigmoid(0) = 1/2 either way).
    assert _value(discriminator_loss(zeros, zeros, "bce", 0.1)) == pytest.approx(2 * LN2)
    real, fake = np.array([[0.5], [2.0]], "float32"), np.array([[-0.5], [-3.0]], "float32")
    # hinge: mean(relu(1 - [0.5, 2])) + mean(relu(1 + [-0.5, -3])) = 0.25 + 0.25
    assert _value(discriminator_loss(real, fake, "hinge")) == pytest.approx(0.5)
    assert _value(discriminator_loss(real, fake, "wgan-gp")) == pytest.approx(-1.75 - 1.25)
    assert _value(generator_loss(fake, "hinge")) == pytest.approx(1.75)


def _tiny_gan(**kwargs):
    generator = keras_segen.dcgan_generator(8, (32, 32, 1), filters=4)
    discriminator = keras_segen.dcgan_discriminator(
        (32, 32, 1), filters=4, norm=None if kwargs.get("loss") == "wgan-gp" else "batch"
    )
    return keras_segen.GAN(generator, discriminator, seed=0, **kwargs)


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = sum(w * x) has gradient w everywhere: the penalty is (||w|| - 1)^2 exactly."""
    inputs = keras.Input((32, 32, 1))
    critic = keras.Model(
        inputs, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs))
    )
    weights = np.full((32 * 32, 1), 0.1, "float32")  # ||w|| = 0.1 * 32 = 3.2
    critic.set_weights([weights])
    gan = keras_segen.GAN(
        keras_segen.dcgan_generator(8, (32, 32, 1), filters=4), critic, loss="wgan-gp", seed=1
    )
    real = np.random.default_rng(0).normal(size=(3, 32, 32, 1)).astype("float32")
    fake = np.random.default_rng(1).normal(size=(3, 32, 32, 1)).astype("float32")
    assert _value(gan.gradient_penalty(real, fake)) == pytest.approx((3.2 - 1.0) ** 2, rel=1e-5)


@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan-gp"])
def test_fit_updates_both_networks(loss):
    gan = _tiny_gan(loss=loss, d_steps=2)
    gan.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5))
    images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    before = gan.generator.get_layer("up1_conv").get_weights()[0].copy()
    history = gan.fit(images, batch_size=4, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][-1]) and np.isfinite(history["g_loss"][-1])
    assert ("gradient_penalty" in history) == (loss == "wgan-gp")
    assert int(gan.d_optimizer.iterations) == 2 * int(gan.g_optimizer.iterations) == 4
    assert not np.allclose(before, gan.generator.get_layer("up1_conv").get_weights()[0])


def test_critic_batches_cut_the_batch_as_algorithm_1_draws_them():
    """Gulrajani et al.'s Algorithm 1: every critic update on its own real images."""
    images = np.arange(5, dtype="float32").reshape(5, 1, 1, 1) * np.ones((1, 32, 32, 1))
    labels = np.arange(5, dtype="int32") + 10

    def rows(batches):
        return [(np.asarray(r)[:, 0, 0, 0].tolist(), None if c is None else np.asarray(c).tolist())
                for r, c in batches]  # fmt: skip

    split = _tiny_gan(loss="wgan-gp", d_steps=2)
    # ceil(5 / 2) = 3 images each; the second wraps round to the first image.
    assert rows(split.critic_batches(images, None)) == [([0, 1, 2], None), ([3, 4, 0], None)]
    assert rows(split.critic_batches(images, labels)) == [
        ([0, 1, 2], [10, 11, 12]), ([3, 4, 0], [13, 14, 10])
    ]
    assert rows(_tiny_gan(d_steps=3).critic_batches(images[:1], None)) == [([0], None)] * 3
    reuse = _tiny_gan(loss="wgan-gp", d_steps=2, real_batches="reuse")
    assert rows(reuse.critic_batches(images, None)) == [([0, 1, 2, 3, 4], None)] * 2


def test_each_critic_update_sees_its_own_images():
    seen = []

    class Recording(keras_segen.GAN):
        def _discriminator_losses(self, real, condition):
            seen.append(np.asarray(real)[:, 0, 0, 0].tolist())
            return super()._discriminator_losses(real, condition)

        def _generator_losses(self, batch_size, condition):
            seen.append(int(batch_size))
            return super()._generator_losses(batch_size, condition)

    gan = Recording(keras_segen.dcgan_generator(8, (32, 32, 1), filters=4),
                    keras_segen.dcgan_discriminator((32, 32, 1), filters=4, norm=None),
                    loss="wgan-gp", d_steps=2, seed=0)  # fmt: skip
    gan.compile(run_eagerly=True)
    images = np.arange(8, dtype="float32").reshape(8, 1, 1, 1) * np.ones((1, 32, 32, 1)) / 8
    gan.fit(images, batch_size=8, shuffle=False, verbose=0)
    as_seen = [[i / 8 for i in range(4)], [i / 8 for i in range(4, 8)], 4]
    assert seen == as_seen
    assert int(gan.d_optimizer.iterations) == 2 and int(gan.g_optimizer.iterations) == 1


@pytest.mark.parametrize("decay", [0.0, 1.0])
def test_ema_generator(decay):
    gan = _tiny_gan(ema=decay)
    initial = [w.copy() for w in gan.generator.get_weights()]
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gan.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    expected = gan.generator.get_weights() if decay == 0.0 else initial
    for got, want in zip(gan.ema_generator.get_weights(), expected):
        np.testing.assert_allclose(got, want, atol=1e-6)
    z = gan.sample_latent(2)
    np.testing.assert_array_equal(np.asarray(gan(z)), np.asarray(gan.ema_generator(z)))


def test_same_seed_same_training():
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        gan = _tiny_gan()
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
        history = gan.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, verbose=0).history
        results.append((history["d_loss"][-1], history["g_loss"][-1]))
    assert results[0] == results[1]


def test_save_and_load(tmp_path):
    gan = _tiny_gan(loss="hinge", ema=0.9, label_smoothing=0.1, real_batches="reuse")
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gan.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(restored, keras_segen.GAN)
    settings = (restored.loss_name, restored.ema, restored.label_smoothing, restored.real_batches)
    assert settings == ("hinge", 0.9, 0.1, "reuse")
    z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    np.testing.assert_array_equal(np.asarray(gan(z)), np.asarray(restored(z)))
    np.testing.assert_array_equal(np.asarray(gan.generator(z)), np.asarray(restored.generator(z)))
    # The optimizers come back with their state, so training can continue.
    assert int(restored.g_optimizer.iterations) == int(gan.g_optimizer.iterations) == 1
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored.d_optimizer.variables[-1]),
        keras.ops.convert_to_numpy(gan.d_optimizer.variables[-1]),
    )


def test_a_gan_saved_before_real_batches_keeps_reusing_its_batch():
    config = _tiny_gan(loss="wgan-gp", d_steps=2).get_config()
    assert config.pop("real_batches") == "split"
    assert keras_segen.GAN.from_config(config).real_batches == "reuse"


def test_mixed_precision_uses_loss_scaling():
    keras.mixed_precision.set_global_policy("mixed_float16")
    gan = _tiny_gan(loss="wgan-gp")
    gan.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4))
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, verbose=0).history
    assert np.isfinite(history["d_loss"][-1]) and np.isfinite(history["g_loss"][-1])
    # Compiling again with the same optimizers (a run's new phase) keeps their state:
    # one loss scale each, the same step count.
    before = [(len(o.variables), int(o.iterations)) for o in (gan.d_optimizer, gan.g_optimizer)]
    gan.compile(gan.d_optimizer, gan.g_optimizer)
    after = [(len(o.variables), int(o.iterations)) for o in (gan.d_optimizer, gan.g_optimizer)]
    assert after == before and before[0][1] == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="lsgan"), "loss must be one of"),
        (dict(d_steps=0), "d_steps must be a positive integer"),
        (dict(real_batches="fresh"), "real_batches must be one of"),
        (dict(label_smoothing=1.0), r"label_smoothing must be in \[0, 1\)"),
        (dict(ema=1.5), "ema must be None or a decay"),
        (dict(latent_dim=9), "does not match the generator's input size 8"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny_gan(**kwargs)


def test_sample_grid_uses_the_same_latents_every_epoch(tmp_path):
    from PIL import Image

    gan = _tiny_gan(ema=1.0)  # the sampling generator stays at its initial weights
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    grid = keras_segen.trainers.SampleGrid(str(tmp_path / "samples"), num_samples=4, seed=5)
    gan.fit(
        np.zeros((4, 32, 32, 1), "float32"), batch_size=4, epochs=2, verbose=0, callbacks=[grid]
    )
    names = [p.split("/")[-1] for p in grid.paths]
    assert names == ["samples_epoch001.png", "samples_epoch002.png"]
    first, second = (np.asarray(Image.open(path)) for path in grid.paths)
    np.testing.assert_array_equal(first, second)  # same latents, same sampler: same grid


def test_image_grid_maps_the_value_range():
    figure = keras_segen.viz.image_grid(np.stack([-np.ones((4, 4, 3)), np.ones((4, 4, 3))]))
    drawn = [axis.images[0].get_array() for axis in figure.axes if axis.images]
    assert float(np.min(drawn[0])) == 0.0 and float(np.max(drawn[1])) == 1.0


def test_side_by_side_colours_label_maps_and_checks_counts():
    masks = np.array([[[0, 1], [2, 3]]] * 2)
    figure = keras_segen.viz.side_by_side({"labels": masks, "fake": np.ones((2, 2, 2, 3))})
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles == ["labels", "fake"]
    drawn = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(drawn[0, 1], keras_segen.viz.colorize_mask(masks[0])[0, 1])
    with pytest.raises(ValueError, match="same number of images"):
        keras_segen.viz.side_by_side({"a": masks, "b": np.ones((3, 2, 2, 3))})
