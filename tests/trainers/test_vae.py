"""VAE: the KL term by hand, reparameterisation, training, saving."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.trainers import kl_divergence


def _vae(**kwargs):
    encoder = keras_segen.vae_encoder((32, 32, 1), latent_dim=4, filters=4)
    decoder = keras_segen.vae_decoder(4, (32, 32, 1), filters=4)
    return keras_segen.VAE(encoder, decoder, seed=0, **kwargs)


def test_kl_divergence_by_hand():
    zeros = np.zeros((2, 3), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl_divergence(zeros, zeros)), [0, 0])
    # mean 1, variance 1: 0.5 per dimension; mean 0, log-variance ln 2: 0.5 (2 - 1 - ln 2).
    means = np.ones((1, 3), "float32")
    assert float(kl_divergence(means, zeros[:1])[0]) == pytest.approx(1.5)
    log_var = np.full((1, 2), np.log(2.0), "float32")
    assert float(kl_divergence(np.zeros((1, 2), "float32"), log_var)[0]) == pytest.approx(
        2 * 0.5 * (2.0 - 1.0 - np.log(2.0)), rel=1e-6
    )


def test_reparameterisation_draws_around_the_mean():
    vae = _vae()
    images = np.zeros((512, 32, 32, 1), "float32")
    z_mean, z_log_var, z = (keras.ops.convert_to_numpy(t) for t in vae.encode(images))
    np.testing.assert_allclose(z_mean, z_mean[:1].repeat(512, 0), atol=1e-6)  # same images
    noise = (z - z_mean) / np.exp(0.5 * z_log_var)
    assert abs(noise.mean()) < 0.1 and noise.std() == pytest.approx(1.0, abs=0.1)


def test_fit_lowers_the_loss_and_tracks_its_parts():
    images = np.tile(np.linspace(-1, 1, 32, dtype="float32")[None, :, None], (32, 1, 1))
    images = np.repeat(images[None], 8, axis=0)
    vae = _vae(beta=0.5)
    vae.compile(keras.optimizers.Adam(3e-3))
    history = vae.fit(images, batch_size=4, epochs=6, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(
        np.array(history["reconstruction_loss"]) + 0.5 * np.array(history["kl_loss"]),
        history["loss"],
        rtol=1e-4,
    )
    samples = keras.ops.convert_to_numpy(vae(vae.sample_latent(3)))
    assert samples.shape == (3, 32, 32, 1) and np.all(np.abs(samples) <= 1)


def test_save_and_load(tmp_path):
    vae = _vae(beta=2.0)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, verbose=0)
    vae.save(tmp_path / "vae.keras")
    restored = keras.models.load_model(tmp_path / "vae.keras")
    assert isinstance(restored, keras_segen.VAE) and restored.beta == 2.0
    z = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(vae(z)), np.asarray(restored(z)))


def test_mixed_precision_training():
    keras.mixed_precision.set_global_policy("mixed_float16")
    vae = _vae()
    vae.compile(keras.optimizers.Adam(1e-3))
    history = vae.fit(np.zeros((4, 32, 32, 1), "float32"), batch_size=4, verbose=0).history
    assert np.isfinite(history["loss"][-1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta must be >= 0"):
        _vae(beta=-1.0)
    encoder = keras_segen.vae_encoder((32, 32, 1), latent_dim=5, filters=4)
    with pytest.raises(ValueError, match="decoder's latent size 4"):
        keras_segen.VAE(encoder, keras_segen.vae_decoder(4, (32, 32, 1), filters=4))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        keras_segen.vae_encoder((32, 32, 2))
