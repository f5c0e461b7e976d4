"""A callback that writes a grid of samples from a fixed latent batch after every epoch."""

import os

import keras
import numpy as np

from keras_segen import viz


class SampleGrid(keras.callbacks.Callback):
    """Saves ``{directory}/samples_epoch{N:03d}.png`` from the same inputs each epoch.

    Works with every generation trainer: ``GAN`` and ``VAE`` get a fixed latent batch
    (``GAN`` samples with its EMA generator when it has one), ``ConditionalGAN`` the same
    latents with the labels ``0, 1, ..., num_classes - 1`` repeated, and ``Pix2Pix`` the
    fixed ``inputs`` you give (label maps or images).

    Args:
        directory: output folder (created if needed).
        num_samples: images per grid (ignored when ``inputs`` is given).
        seed: seed of the fixed latent batch.
        inputs: fixed model inputs, for trainers without a latent space (``Pix2Pix``).

    Example:
        >>> images = keras_segen.data.load_images("shapes", image_size=32, num_examples=16)
        >>> gan = keras_segen.GAN(keras_segen.dcgan_generator(16, (32, 32, 3), filters=16),
        ...                       keras_segen.dcgan_discriminator((32, 32, 3), filters=16))
        >>> gan.compile()
        >>> grids = keras_segen.trainers.SampleGrid("runs/gan", num_samples=9)
        >>> history = gan.fit(images, epochs=2, callbacks=[grids], verbose=0)
        >>> import os
        >>> sorted(os.listdir("runs/gan"))
        ['samples_epoch001.png', 'samples_epoch002.png']
    """

    def __init__(self, directory, num_samples=16, seed=0, inputs=None):
        super().__init__()
        self.directory = directory
        self.num_samples = num_samples
        self.seed = seed
        self.inputs = inputs
        self.paths = []
        self.figure = None  # the latest epoch's grid (a matplotlib Figure)

    def _fixed_inputs(self):
        if self.inputs is not None:
            return self.inputs
        if not hasattr(self.model, "latent_dim"):
            raise ValueError(
                f"SampleGrid: {type(self.model).__name__} has no latent space; pass the "
                "fixed inputs to draw from, e.g. SampleGrid(directory, inputs=label_maps)."
            )
        rng = np.random.default_rng(self.seed)
        latent = rng.normal(size=(self.num_samples, self.model.latent_dim)).astype("float32")
        num_classes = getattr(self.model, "num_classes", None)
        if num_classes is None:
            return latent
        return [latent, np.arange(self.num_samples, dtype="int32") % num_classes]

    def on_epoch_end(self, epoch, logs=None):
        images = self.model(self._fixed_inputs(), training=False)
        self.figure = viz.image_grid(keras.ops.convert_to_numpy(images))
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"samples_epoch{epoch + 1:03d}.png")
        self.figure.savefig(path, dpi=80)
        self.paths.append(path)
