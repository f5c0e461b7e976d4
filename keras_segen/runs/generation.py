"""Generation runs: train a GAN, WGAN-GP, cGAN, VAE or pix2pix recipe into a run directory.

A run directory holds ``config.json``, ``last.keras`` (the trainer with its sub-models and
optimizer state), ``history.csv``, ``state.json``, ``logs/`` (TensorBoard),
``samples/samples_epochNNN.png`` (the same inputs every epoch), ``curves.png``, and for
pix2pix ``metrics.json`` (held-out L1, PSNR and SSIM). ``resume_generation`` continues it;
``generate`` draws from it.
"""

import inspect
import os

import keras
import numpy as np

from keras_segen import metrics, trainers, viz
from keras_segen.data import load_images, load_segmentation
from keras_segen.data.arrays import ArrayBatches, first_examples, resolve_pipeline
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.registry import get_model, model_entry
from keras_segen.runs.checkpoint import read_history, write_json
from keras_segen.runs.files import load_run_or_model
from keras_segen.runs.lifecycle import (
    RunData,
    RunTask,
    check_new_run,
    create_run,
    resume_run,
    strategy_name,
)
from keras_segen.trainers.callbacks import SampleGrid
from keras_segen.trainers.recipes import get_recipe


def build_trainer(recipe, config, num_classes):
    """The trainer of ``recipe`` for a run ``config``, compiled with the recipe's optimizers.

    Each network's builder gets the run values it accepts (``latent_dim``,
    ``image_shape``, ``num_classes``, the label-map ``input_shape`` of pix2pix, the
    output channels) and its width (``filters`` / ``d_filters``) when the run sets one.
    """
    size, channels = config["image_size"], config["channels"]
    values = {
        "latent_dim": config["latent_dim"],
        "image_shape": (size, size, channels),
        "num_classes": num_classes,
        "input_shape": (size, size, num_classes),
        "output_channels": channels,
        "target_channels": channels,
    }
    networks = []
    for network in recipe.networks:
        accepted = inspect.signature(model_entry(network.builder).builder).parameters
        arguments = {key: value for key, value in values.items() if key in accepted}
        if config[network.width] is not None:
            arguments["filters"] = config[network.width]
        networks.append(get_model(network.builder, **arguments, **network.arguments))
    run_values = {"ema": config["ema"], "seed": config["seed"], "num_classes": num_classes}
    trainer = getattr(trainers, recipe.trainer)(
        *networks,
        **recipe.trainer_arguments,
        **{key: run_values[key] for key in recipe.run_arguments},
    )
    rate = config["learning_rate"]
    trainer.compile(*(keras.optimizers.Adam(rate, *recipe.betas) for _ in range(recipe.optimizers)))
    return trainer


def _load_data(config, split, shuffle=None):
    """``(dataset, info)`` in the form the recipe's trainer trains on."""
    common = dict(
        split=split,
        image_size=config["image_size"],
        batch_size=config["batch_size"],
        num_examples=config["num_examples"] if split == "train" else config["test_examples"],
        seed=config["seed"],
        data_dir=config.get("data_dir"),
        shuffle=shuffle,
        with_info=True,
        pipeline=config.get("pipeline", "tf.data"),
    )
    data = get_recipe(config["model"]).data
    if data != "label_maps":
        return load_images(
            config["dataset"], channels=config["channels"], labels=data == "labelled_images",
            **common,
        )  # fmt: skip
    if config["channels"] != 3:
        raise ValueError("pix2pix label -> image runs generate RGB images; use channels=3.")
    dataset, info = load_segmentation(config["dataset"], **common)
    if isinstance(dataset, ArrayBatches):
        images, masks = dataset.arrays
        return dataset.with_arrays((masks, images * 2.0 - 1.0)), info
    return dataset.map(lambda image, mask: (mask, image * 2.0 - 1.0)), info


def _sample_inputs(config):
    """The fixed pix2pix label maps of the sample grids (the first test examples)."""
    test, _ = _load_data(config, "test", shuffle=False)
    return first_examples(test, config["num_samples"])[0]


class GenerationTask(RunTask):
    """Generation runs: no ``best.keras``; sample grids every epoch; pix2pix's held-out report."""

    task = "generation"
    monitor = None

    def prepare(self, config):
        train, info = _load_data(config, "train")
        conditional = get_recipe(config["model"]).conditional
        config["num_classes"] = info.num_classes if conditional else None
        config["class_names"] = list(info.class_names) if conditional else None
        return RunData(train, None, info, None)

    def build(self, config, data):
        return build_trainer(get_recipe(config["model"]), config, data.info.num_classes)

    def callbacks(self, config, write_dir, data):
        self.grid = SampleGrid(
            os.path.join(write_dir, "samples"), config["num_samples"], config["seed"],
            _sample_inputs(config) if get_recipe(config["model"]).data == "label_maps" else None,
        )  # fmt: skip
        return [self.grid]

    def figures(self, config, data):
        return {"samples": lambda model: self.grid.figure}  # drawn once by the SampleGrid

    def finish(self, run_dir, config, model, data, verbose):
        history = read_history(run_dir)
        viz.plot_curves({k: v for k, v in history.items() if k != "epoch"}).savefig(
            os.path.join(run_dir, "curves.png"), dpi=100
        )
        if get_recipe(config["model"]).data == "label_maps":
            report = paired_report(model, _load_data(config, "test", shuffle=False)[0])
            write_json(report, os.path.join(run_dir, "metrics.json"))
            if verbose:
                print("held-out " + ", ".join(f"{k} {v:.4f}" for k, v in report.items()))
        return history


def train_generation(
    model="dcgan",
    dataset="shapes",
    epochs=20,
    batch_size=32,
    image_size=64,
    out="runs/gan",
    latent_dim=128,
    filters=None,
    d_filters=None,
    learning_rate=None,
    channels=3,
    ema=None,
    num_examples=None,
    test_examples=None,
    mixed_precision=False,
    strategy=None,
    seed=0,
    num_samples=16,
    data_dir=None,
    tensorboard=True,
    pipeline="auto",
    callbacks=None,
    verbose=1,
):
    """Trains a generation model into the run directory ``out``.

    Args:
        model: a generation recipe (``keras_segen.trainers.list_recipes()``): ``"dcgan"``
            (BCE, Radford et al.), ``"wgan-gp"`` (LayerNorm critic, 5 critic steps,
            Adam(1e-4, 0, 0.9)), ``"cgan"`` (class-conditional, needs labels), ``"vae"``
            or ``"pix2pix"`` (label map -> image on a segmentation dataset).
        dataset: ``"shapes"``, a TFDS name or a folder (``load_images`` /
            ``load_segmentation`` for pix2pix).
        epochs: total epochs.
        batch_size: global batch size.
        image_size: side of the square images (32-256, a power of two for DCGAN and VAE).
        out: run directory; must not hold a run already.
        latent_dim: latent size (not used by pix2pix).
        filters: generator (decoder) width, ``None`` for the builder's default.
        d_filters: discriminator (encoder) width, ``None`` for the default.
        learning_rate: default: the recipe's (2e-4; 1e-4 for WGAN-GP, 1e-3 for the VAE).
        channels: 1 or 3.
        ema: generator weight averaging decay for the GANs, e.g. 0.999.
        num_examples: size of the shapes training split.
        test_examples: size of the held-out split used by pix2pix's metrics.
        mixed_precision: build and train under ``mixed_float16``.
        strategy: ``None``, ``"mirrored"``, ``"multiworker"``, a ``tf.distribute.Strategy``, or
            ``"data_parallel"`` on JAX (``keras.distribution.DataParallel``).
        seed: seed of weights, data order and every random draw.
        num_samples: images in each epoch's sample grid.
        data_dir: TFDS data directory.
        tensorboard: write TensorBoard ``logs/`` (losses, learning rates, the sample grid
            every epoch; needs TensorFlow).
        pipeline: ``"tf.data"``, ``"numpy"`` (shapes and folders as
            ``keras_segen.data.ArrayBatches``) or ``"auto"`` (tf.data when TensorFlow is
            installed).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        The training history as ``{column: [values per epoch]}``.

    Example:
        >>> history = keras_segen.train_generation("dcgan", "shapes", epochs=2, image_size=32,
        ...     num_examples=32, filters=16, out="runs/dcgan", verbose=0)
        >>> history["epoch"], sorted(history)
        ([1, 2], ['d_loss', 'epoch', 'g_loss'])
        >>> import os
        >>> sorted(os.listdir("runs/dcgan"))  # samples/: a grid per epoch
        ['config.json', 'curves.png', 'history.csv', 'last.keras', 'logs', 'samples', 'state.json']
    """
    recipe = get_recipe(model)
    if not isinstance(image_size, int):
        raise ValueError(f"image_size must be one int (square images); got {image_size!r}.")
    image_size_pair(image_size)
    check_new_run(out, epochs)
    config = {
        "task": "generation",
        "model": model,
        "dataset": str(dataset),
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "latent_dim": latent_dim,
        "filters": filters,
        "d_filters": d_filters,
        "learning_rate": learning_rate or recipe.learning_rate,
        "channels": channels,
        "ema": ema,
        "num_examples": num_examples,
        "test_examples": test_examples,
        "mixed_precision": mixed_precision,
        "strategy": strategy_name(strategy),
        "seed": seed,
        "num_samples": num_samples,
        "data_dir": data_dir,
        "tensorboard": tensorboard,
        "pipeline": resolve_pipeline(pipeline),
    }
    return create_run(GenerationTask(), config, out, strategy, callbacks, verbose)


def resume_generation(run_dir, epochs=None, strategy=None, callbacks=None, verbose=1):
    """Continues a generation run from its last completed epoch, optimizer state included.

    Args:
        run_dir: a directory written by ``train_generation``.
        epochs: new total number of epochs (default: the run's own).
        strategy: as for ``train_generation`` (default: the run's own).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        The full training history.

    Example:
        >>> history = keras_segen.train_generation("dcgan", epochs=1, image_size=32,
        ...     num_examples=16, filters=16, out="runs/dcgan", verbose=0)
        >>> history = keras_segen.resume_generation("runs/dcgan", epochs=2, verbose=0)
        >>> history["epoch"]
        [1, 2]
    """
    return resume_run(GenerationTask(), run_dir, epochs, strategy, callbacks, verbose)


def paired_report(pix2pix, dataset):
    """Held-out L1, PSNR and SSIM (images in [-1, 1]) of a ``Pix2Pix`` on ``(source, target)``.

    Example:
        >>> pix2pix = keras_segen.Pix2Pix(
        ...     keras_segen.pix2pix_generator((32, 32, 4), filters=8),
        ...     keras_segen.patchgan_discriminator((32, 32, 4), filters=8), num_classes=4)
        >>> pairs = keras_segen.data.load_segmentation("shapes", "test", 32, num_examples=8)
        >>> masks_and_images = pairs.map(lambda image, mask: (mask, image * 2 - 1))
        >>> report = keras_segen.runs.paired_report(pix2pix, masks_and_images)
        >>> sorted(report), report["images"]  # untrained: low PSNR and SSIM
        (['images', 'l1', 'psnr', 'ssim'], 8)
    """
    generated, targets = [], []
    for sources, images in dataset:
        generated.append(keras.ops.convert_to_numpy(pix2pix(sources, training=False)))
        targets.append(np.asarray(images))
    generated, targets = np.concatenate(generated), np.concatenate(targets)
    return {
        "l1": float(np.mean(np.abs(generated - targets))),
        "psnr": metrics.psnr(generated, targets),
        "ssim": metrics.ssim(generated, targets),
        "images": len(targets),
    }


def generate(run_or_model, num=64, out="grid.png", labels=None, seed=0, sources=None):
    """Draws ``num`` images from a trained generation run (or ``.keras`` trainer) into a grid PNG.

    GANs and VAEs decode ``num`` latent vectors drawn with ``seed``; a ``ConditionalGAN``
    uses ``labels`` (default: all classes in turn); a ``Pix2Pix`` translates ``sources``
    (default: the run's first held-out label maps) and the figure shows each source next to
    its generated image.

    Args:
        run_or_model: run directory or ``.keras`` file of a trainer.
        num: number of images.
        out: PNG path to write.
        labels: class labels for a ``ConditionalGAN`` (ints, length ``num``).
        seed: seed of the latent vectors.
        sources: pix2pix inputs (label maps or images).

    Returns:
        The generated images as a NumPy array in [-1, 1].

    Example:
        >>> history = keras_segen.train_generation("dcgan", epochs=1, image_size=32,
        ...     num_examples=16, filters=16, out="runs/dcgan", verbose=0)
        >>> images = keras_segen.generate("runs/dcgan", num=16, out="grid.png")
        >>> images.shape, bool(images.min() >= -1 and images.max() <= 1)
        ((16, 32, 32, 3), True)
    """
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be a positive integer; got {num!r}.")
    trainer, config = load_run_or_model(run_or_model)  # a run's last.keras: the trainer
    figure = None
    if isinstance(trainer, trainers.Pix2Pix):
        if sources is None:
            if not config:
                raise ValueError("A pix2pix .keras file needs sources=... to translate.")
            sources = _sample_inputs({**config, "num_samples": num})
        images = keras.ops.convert_to_numpy(trainer(sources))
        figure = viz.side_by_side({"source": np.asarray(sources), "generated": images})
    else:
        latent = np.random.default_rng(seed).normal(size=(num, trainer.latent_dim))
        latent = latent.astype("float32")
        if isinstance(trainer, trainers.ConditionalGAN):
            labels = np.arange(num) % trainer.num_classes if labels is None else labels
            labels = trainer.check_labels(labels, num)
            images = keras.ops.convert_to_numpy(trainer([latent, labels]))
        else:
            images = keras.ops.convert_to_numpy(trainer(latent))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if figure is None:
        figure = viz.image_grid(images)
    figure.savefig(out, dpi=100)
    return images
