"""A callback that writes a grid of samples from a fixed latent batch after every epoch."""

import os

import keras
import numpy as np

from keras_segen import viz


class SampleGrid(keras.callbacks.Callback):
    """Saves ``{directory}/samples_epoch{N:03d}.png`` from the same latent vectors each epoch.

    Works with any trainer that has ``latent_dim`` and generates images when called
    (``GAN`` samples with its EMA generator when it has one).

    Args:
        directory: output folder (created if needed).
        num_samples: images per grid.
        seed: seed of the fixed latent batch.

    Example:
        >>> gan.fit(images, epochs=10, callbacks=[keras_segen.training.SampleGrid("runs/gan")])
    """

    def __init__(self, directory, num_samples=16, seed=0):
        super().__init__()
        self.directory = directory
        self.num_samples = num_samples
        self.seed = seed
        self.paths = []

    def on_epoch_end(self, epoch, logs=None):
        latent_dim = self.model.latent_dim
        latent = np.random.default_rng(self.seed).normal(size=(self.num_samples, latent_dim))
        images = keras.ops.convert_to_numpy(self.model(latent.astype("float32"), training=False))
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"samples_epoch{epoch + 1:03d}.png")
        viz.image_grid(images).savefig(path, dpi=80)
        self.paths.append(path)
