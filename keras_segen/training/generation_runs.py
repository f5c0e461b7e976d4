"""Generation runs: train a GAN, WGAN-GP, cGAN, VAE or pix2pix into a run directory.

A run directory holds ``config.json``, ``last.keras`` (the trainer with its sub-models and
optimizer state), ``history.csv``, ``state.json``, ``samples/samples_epochNNN.png`` (the
same inputs every epoch), ``curves.png``, and for pix2pix ``metrics.json`` (held-out L1,
PSNR and SSIM). ``resume_generation`` continues it; ``generate`` draws from it.
"""

import os
import shutil
import tempfile

import keras
import numpy as np

from keras_segen import metrics, viz
from keras_segen.data import load_images, load_segmentation
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.data.sources import data_errors_named
from keras_segen.models.generation import (
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    patchgan_discriminator,
    pix2pix_generator,
    vae_decoder,
    vae_encoder,
)
from keras_segen.training.callbacks import RunCheckpoint, read_history, write_json
from keras_segen.training.distribution import dtype_policy, is_chief, resolve_strategy
from keras_segen.training.gan import GAN, ConditionalGAN
from keras_segen.training.pix2pix import Pix2Pix
from keras_segen.training.run_files import load_run_or_model, read_run, truncate_history
from keras_segen.training.sample_grid import SampleGrid
from keras_segen.training.vae import VAE
from keras_segen.version import __version__

GENERATION_MODELS = ("dcgan", "wgan-gp", "cgan", "vae", "pix2pix")


def _filters(value):
    return {} if value is None else {"filters": value}


def _build_trainer(config, num_classes):
    """The trainer named by ``config["model"]``, compiled with the papers' optimizers."""
    kind, rate, seed = config["model"], config["learning_rate"], config["seed"]
    size = config["image_size"]
    shape = (size, size, config["channels"])
    latent, g_filters, d_filters = config["latent_dim"], config["filters"], config["d_filters"]
    if kind in ("dcgan", "wgan-gp"):
        wgan = kind == "wgan-gp"
        trainer = GAN(
            dcgan_generator(latent, shape, **_filters(g_filters)),
            dcgan_discriminator(shape, norm="layer" if wgan else "batch", **_filters(d_filters)),
            loss="wgan-gp" if wgan else "bce",
            d_steps=5 if wgan else 1,
            ema=config["ema"],
            seed=seed,
        )
        # Gulrajani et al.: Adam(1e-4, beta_1=0, beta_2=0.9); Radford et al.: (2e-4, 0.5).
        betas = (0.0, 0.9) if wgan else (0.5, 0.999)
        trainer.compile(keras.optimizers.Adam(rate, *betas), keras.optimizers.Adam(rate, *betas))
    elif kind == "cgan":
        trainer = ConditionalGAN(
            conditional_generator(latent, num_classes, shape, **_filters(g_filters)),
            conditional_discriminator(shape, num_classes, **_filters(d_filters)),
            num_classes=num_classes,
            ema=config["ema"],
            seed=seed,
        )
        trainer.compile(keras.optimizers.Adam(rate, 0.5), keras.optimizers.Adam(rate, 0.5))
    elif kind == "vae":
        trainer = VAE(
            vae_encoder(shape, latent, **_filters(d_filters)),
            vae_decoder(latent, shape, **_filters(g_filters)),
            seed=seed,
        )
        trainer.compile(keras.optimizers.Adam(rate))
    else:
        source = (size, size, num_classes)
        trainer = Pix2Pix(
            pix2pix_generator(source, config["channels"], **_filters(g_filters)),
            patchgan_discriminator(source, config["channels"], **_filters(d_filters)),
            num_classes=num_classes,
        )
        trainer.compile(keras.optimizers.Adam(rate, 0.5), keras.optimizers.Adam(rate, 0.5))
    return trainer


def _load_data(config, split, shuffle=None):
    """``(dataset, info)`` in the form the trainer of ``config["model"]`` trains on."""
    common = dict(
        split=split,
        image_size=config["image_size"],
        batch_size=config["batch_size"],
        num_examples=config["num_examples"] if split == "train" else config["test_examples"],
        seed=config["seed"],
        data_dir=config.get("data_dir"),
        shuffle=shuffle,
        with_info=True,
    )
    if config["model"] != "pix2pix":
        return load_images(
            config["dataset"], channels=config["channels"], labels=config["model"] == "cgan",
            **common,
        )  # fmt: skip
    if config["channels"] != 3:
        raise ValueError("pix2pix label -> image runs generate RGB images; use channels=3.")
    dataset, info = load_segmentation(config["dataset"], **common)
    return dataset.map(lambda image, mask: (mask, image * 2.0 - 1.0)), info


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
    callbacks=None,
    verbose=1,
):
    """Trains a generation model into the run directory ``out``.

    Args:
        model: ``"dcgan"`` (BCE, Radford et al.), ``"wgan-gp"`` (LayerNorm critic, 5 critic
            steps, Adam(1e-4, 0, 0.9)), ``"cgan"`` (class-conditional, needs labels),
            ``"vae"`` or ``"pix2pix"`` (label map -> image on a segmentation dataset).
        dataset: ``"shapes"``, a TFDS name or a folder (``load_images`` /
            ``load_segmentation`` for pix2pix).
        epochs: total epochs.
        batch_size: global batch size.
        image_size: side of the square images (32-256, a power of two for DCGAN and VAE).
        out: run directory; must not hold a run already.
        latent_dim: latent size (not used by pix2pix).
        filters: generator (decoder) width, ``None`` for the builder's default.
        d_filters: discriminator (encoder) width, ``None`` for the default.
        learning_rate: default 2e-4 (1e-4 for WGAN-GP, 1e-3 for the VAE).
        channels: 1 or 3.
        ema: generator weight averaging decay for the GANs, e.g. 0.999.
        num_examples: size of the shapes training split.
        test_examples: size of the held-out split used by pix2pix's metrics.
        mixed_precision: build and train under ``mixed_float16``.
        strategy: ``None``, ``"mirrored"``, ``"multiworker"`` or a ``tf.distribute.Strategy``.
        seed: seed of weights, data order and every random draw.
        num_samples: images in each epoch's sample grid.
        data_dir: TFDS data directory.
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
        ['config.json', 'curves.png', 'history.csv', 'last.keras', 'samples', 'state.json']
    """
    if model not in GENERATION_MODELS:
        raise ValueError(f"model must be one of {GENERATION_MODELS}; got {model!r}.")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
    if not isinstance(image_size, int):
        raise ValueError(f"image_size must be one int (square images); got {image_size!r}.")
    image_size_pair(image_size)
    if os.path.exists(os.path.join(out, "state.json")):
        raise ValueError(f"{out} already holds a run; resume it or choose another --out.")
    default_rate = {"wgan-gp": 1e-4, "vae": 1e-3}.get(model, 2e-4)
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
        "learning_rate": learning_rate or default_rate,
        "channels": channels,
        "ema": ema,
        "num_examples": num_examples,
        "test_examples": test_examples,
        "mixed_precision": mixed_precision,
        "strategy": strategy
        if isinstance(strategy, (str, type(None)))
        else type(strategy).__name__,
        "seed": seed,
        "num_samples": num_samples,
        "data_dir": data_dir,
        "keras_segen_version": __version__,
    }
    distribution = resolve_strategy(strategy)
    keras.utils.set_random_seed(seed)
    train_data, info = _load_data(config, "train")
    conditional = model in ("cgan", "pix2pix")
    config["num_classes"] = info.num_classes if conditional else None
    config["class_names"] = list(info.class_names) if conditional else None
    policy = "mixed_float16" if mixed_precision else keras.mixed_precision.global_policy().name
    with dtype_policy(policy), distribution.scope():
        trainer = _build_trainer(config, info.num_classes)
    os.makedirs(out, exist_ok=True)
    if is_chief(distribution):
        write_json(config, os.path.join(out, "config.json"))
    return _fit(trainer, config, out, distribution, train_data, 0, callbacks, verbose)


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
    config, state = read_run(run_dir)
    if config.get("task") != "generation":
        raise ValueError(f"{run_dir} is not a generation run; use keras_segen.resume.")
    config["epochs"] = epochs or config["epochs"]
    done = state["epochs_completed"]
    truncate_history(run_dir, done)
    distribution = resolve_strategy(strategy if strategy is not None else config["strategy"])
    keras.utils.set_random_seed(config["seed"] + done)
    train_data, _ = _load_data(config, "train")
    policy = "mixed_float16" if config["mixed_precision"] else "float32"
    with dtype_policy(policy), distribution.scope():
        trainer = keras.models.load_model(os.path.join(run_dir, "last.keras"))
    if is_chief(distribution):
        write_json(config, os.path.join(run_dir, "config.json"))
    return _fit(trainer, config, run_dir, distribution, train_data, done, callbacks, verbose)


def _sample_inputs(config):
    """The fixed pix2pix label maps of the sample grids (the first test examples)."""
    test, _ = _load_data(config, "test", shuffle=False)
    masks = next(iter(test.unbatch().batch(config["num_samples"])))[0]
    return masks.numpy()


def _fit(trainer, config, out, distribution, train_data, initial_epoch, callbacks, verbose):
    chief = is_chief(distribution)
    write_dir = out if chief else tempfile.mkdtemp()
    inputs = _sample_inputs(config) if config["model"] == "pix2pix" else None
    grid = SampleGrid(
        os.path.join(write_dir, "samples"), config["num_samples"], config["seed"], inputs
    )
    checkpoint = RunCheckpoint(write_dir, monitor=None)
    if initial_epoch < config["epochs"]:
        with data_errors_named():
            trainer.fit(
                train_data,
                epochs=config["epochs"],
                initial_epoch=initial_epoch,
                callbacks=[checkpoint, grid, *(callbacks or [])],
                shuffle=False,
                verbose=verbose,
            )
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
        return None
    history = read_history(out)
    viz.plot_curves({k: v for k, v in history.items() if k != "epoch"}).savefig(
        os.path.join(out, "curves.png"), dpi=100
    )
    if config["model"] == "pix2pix":
        report = paired_report(trainer, _load_data(config, "test", shuffle=False)[0])
        write_json(report, os.path.join(out, "metrics.json"))
        if verbose:
            print("held-out " + ", ".join(f"{k} {v:.4f}" for k, v in report.items()))
    return history


def paired_report(pix2pix, dataset):
    """Held-out L1, PSNR and SSIM (images in [-1, 1]) of a ``Pix2Pix`` on ``(source, target)``.

    Example:
        >>> pix2pix = keras_segen.Pix2Pix(
        ...     keras_segen.pix2pix_generator((32, 32, 4), filters=8),
        ...     keras_segen.patchgan_discriminator((32, 32, 4), filters=8), num_classes=4)
        >>> pairs = keras_segen.data.load_segmentation("shapes", "test", 32, num_examples=8)
        >>> masks_and_images = pairs.map(lambda image, mask: (mask, image * 2 - 1))
        >>> report = keras_segen.training.paired_report(pix2pix, masks_and_images)
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
    if isinstance(trainer, Pix2Pix):
        if sources is None:
            if not config:
                raise ValueError("A pix2pix .keras file needs sources=... to translate.")
            sources = _sample_inputs({**config, "num_samples": num})
        images = keras.ops.convert_to_numpy(trainer(sources))
        figure = viz.side_by_side({"source": np.asarray(sources), "generated": images})
    else:
        latent = np.random.default_rng(seed).normal(size=(num, trainer.latent_dim))
        latent = latent.astype("float32")
        if isinstance(trainer, ConditionalGAN):
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
