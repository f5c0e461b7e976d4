"""Mode collapse is caught: a short dcgan run keeps its samples diverse; collapsed ones fail.

The check compares the mean pairwise distance of 64 samples with that of 64 real images.
A generator that ignores its latent input draws one image (ratio 0); the old dcgan command
(builder widths 128/64, latent 128, 1000 images, batch 32) drew near-copies of one noise
tile after 5 epochs: ratio 0.12, measured with this function on that run. The dcgan
recipe's samples keep a spread near the real data's (0.93 after the 120 steps below). The
threshold, a quarter of the real spread, lies between.
"""

import keras
import numpy as np

import keras_segen
from keras_segen.trainers import get_recipe

SAMPLES = 64
MIN_DIVERSITY = 0.25  # of the real images' mean pairwise distance


def mean_pairwise_distance(images):
    """Mean RMS distance over all pairs of ``(N, H, W, C)`` images."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    norms = np.sum(flat**2, axis=1)
    squared = norms[:, None] + norms[None, :] - 2 * flat @ flat.T
    upper = np.triu_indices(len(flat), 1)
    return float(np.mean(np.sqrt(np.clip(squared[upper], 0, None) / flat.shape[1])))


def diversity(trainer, real_images):
    """Mean pairwise distance of ``SAMPLES`` samples over that of the real images."""
    latent = np.random.default_rng(0).normal(size=(SAMPLES, trainer.latent_dim))
    samples = keras.ops.convert_to_numpy(trainer(latent.astype("float32"), training=False))
    return mean_pairwise_distance(samples) / mean_pairwise_distance(real_images)


def _real_images(size=32):
    test = keras_segen.data.load_images("shapes", "test", size, SAMPLES, num_examples=SAMPLES)
    return keras.ops.convert_to_numpy(next(iter(test)))


def _short_dcgan_run(tmp_path, steps=120):
    """The dcgan recipe's networks and optimizers, trained for ``steps`` steps (no EMA)."""
    recipe = get_recipe("dcgan")
    batch_size = recipe.batch_size
    keras_segen.train_generation(
        model="dcgan", dataset="shapes", epochs=2, image_size=32, out=str(tmp_path / "dcgan"),
        batch_size=batch_size, num_examples=steps // 2 * batch_size,
        latent_dim=recipe.latent_dim, filters=recipe.filters, d_filters=recipe.d_filters,
        ema=0.0, verbose=0, tensorboard=False,  # off: an average over 120 steps is mostly the start
    )  # fmt: skip
    return keras.models.load_model(str(tmp_path / "dcgan" / "last.keras"))


def test_a_short_dcgan_run_does_not_collapse(tmp_path):
    trainer = _short_dcgan_run(tmp_path)
    assert diversity(trainer, _real_images()) > MIN_DIVERSITY


def test_a_generator_that_ignores_its_latent_fails_the_check():
    """Latent scaled by 0 (one image) or 0.01 (near-copies): both below the threshold."""
    real = _real_images()
    for scale in (0.0, 0.01):
        latent = keras.Input((16,))
        body = keras_segen.dcgan_generator(16, (32, 32, 3), filters=16)
        generator = keras.Model(latent, body(keras.layers.Rescaling(scale)(latent)))
        gan = keras_segen.GAN(generator, keras_segen.dcgan_discriminator((32, 32, 3), filters=8))
        assert diversity(gan, real) < MIN_DIVERSITY, scale
