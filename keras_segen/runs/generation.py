"""Generation runs: train a GAN, WGAN-GP, cGAN, VAE or pix2pix recipe into a run directory.

A run directory holds ``config.json``, ``last.keras`` (the trainer with its sub-models and
optimizer state), ``history.csv``, ``state.json``, ``logs/`` (TensorBoard),
``samples/samples_epochNNN.png`` (the same inputs every epoch), ``curves.png`` and
``metrics.json`` (FID of the samples; pix2pix: also held-out L1, PSNR and SSIM).
``resume_generation`` continues it; ``generate`` draws from it.
"""

import inspect
import os

import keras
import numpy as np

from keras_segen import trainers, viz
from keras_segen.data import load_images, load_segmentation
from keras_segen.data.arrays import ArrayBatches, first_examples, resolve_pipeline
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.registry import get_model, model_entry
from keras_segen.runs.checkpoint import read_history, write_json
from keras_segen.runs.files import load_run_or_model, read_run
from keras_segen.runs.generation_report import (
    FID_IMAGES,
    SHAPES_SOURCES,
    describe_fid,
    end_of_run_fid,
    fid_extractor,
    paired_report,
)
from keras_segen.runs.lifecycle import (
    RunData,
    RunTask,
    check_new_run,
    config_of_call,
    continues_restarted_worker,
    create_run,
    resume_run,
)
from keras_segen.trainers.callbacks import SampleGrid
from keras_segen.trainers.recipes import get_recipe


def build_trainer(recipe, config, num_classes):
    """The trainer of ``recipe`` for a run ``config``, compiled with the recipe's optimizers.

    Each network's builder gets the run values it accepts (``latent_dim``,
    ``image_shape``, ``num_classes``, the label-map ``input_shape`` of pix2pix, the
    output channels) and its width (``filters`` / ``d_filters``) when the run sets one.
    """
    size, channels = config.data.image_size, config.data.channels
    values = {
        "latent_dim": config.model.latent_dim,
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
        width = getattr(config.model, network.width)
        if width is not None:
            arguments["filters"] = width
        networks.append(get_model(network.builder, **arguments, **network.arguments))
    run_values = {
        "ema": config.model.ema or None, "seed": config.training.seed, "num_classes": num_classes
    }
    trainer = getattr(trainers, recipe.trainer)(
        *networks,
        **recipe.trainer_arguments,
        **{key: run_values[key] for key in recipe.run_arguments},
    )
    rates = [config.training.learning_rate]
    if recipe.optimizers == 2:  # the trainers' compile takes the discriminator's first
        rates.insert(0, config.training.d_learning_rate or config.training.learning_rate)
    trainer.compile(*(keras.optimizers.Adam(rate, *recipe.betas) for rate in rates))
    return trainer


def _load_data(config, split, shuffle=None, num_examples=None):
    """``(dataset, info)`` in the form the recipe's trainer trains on; ``num_examples``
    overrides the configured size of a shapes split."""
    data = config.data
    configured = data.num_examples if split == "train" else data.test_examples
    common = dict(
        split=split,
        image_size=data.image_size,
        batch_size=data.batch_size,
        num_examples=num_examples or configured,
        seed=config.training.seed,
        data_dir=data.data_dir,
        shuffle=shuffle,
        with_info=True,
        pipeline=data.pipeline,
    )
    kind = get_recipe(config.model.model).data
    if kind != "label_maps":
        return load_images(
            data.dataset, channels=data.channels, labels=kind == "labelled_images", **common
        )
    if data.channels != 3:
        raise ValueError("pix2pix label -> image runs generate RGB images; use channels=3.")
    dataset, info = load_segmentation(data.dataset, **common)
    if isinstance(dataset, ArrayBatches):
        images, masks = dataset.arrays
        return dataset.with_arrays((masks, images * 2.0 - 1.0)), info
    return dataset.map(lambda image, mask: (mask, image * 2.0 - 1.0)), info


def _sample_inputs(config):
    """The fixed pix2pix label maps of the sample grids (the first test examples)."""
    test, _ = _load_data(config, "test", shuffle=False)
    return first_examples(test, config.model.num_samples)[0]


class GenerationTask(RunTask):
    """Generation runs: no ``best.keras``; sample grids every epoch; pix2pix's held-out report."""

    task = "generation"
    monitor = None

    def prepare(self, config):
        said = choose_recipe_defaults(config)
        self.fid_features, fid_said = fid_extractor(config.data.fid, config.data.dataset)
        train, info = _load_data(config, "train")
        conditional = get_recipe(config.model.model).conditional
        config.resolved["num_classes"] = info.num_classes if conditional else None
        config.resolved["class_names"] = list(info.class_names) if conditional else None
        return RunData(train, None, info, None, said + fid_said)

    def build(self, config, data):
        return build_trainer(get_recipe(config.model.model), config, data.info.num_classes)

    def callbacks(self, config, write_dir, data):
        label_maps = get_recipe(config.model.model).data == "label_maps"
        self.grid = SampleGrid(
            os.path.join(write_dir, "samples"), config.model.num_samples, config.training.seed,
            _sample_inputs(config) if label_maps else None,
        )  # fmt: skip
        return [self.grid]

    def figures(self, config, data):
        return {"samples": lambda model: self.grid.figure}  # drawn once by the SampleGrid

    def finish(self, run_dir, config, model, data, verbose):
        history = read_history(run_dir)
        viz.plot_curves({k: v for k, v in history.items() if k != "epoch"}).savefig(
            os.path.join(run_dir, "curves.png"), dpi=100
        )
        report = {}
        if get_recipe(config.model.model).data == "label_maps":
            report = paired_report(model, _load_data(config, "test", shuffle=False)[0])
            if verbose:
                print("held-out " + ", ".join(f"{k} {v:.4f}" for k, v in report.items()))
        if self.fid_features is not None:
            shapes = config.data.dataset in SHAPES_SOURCES and config.data.test_examples is None
            held_out = _load_data(config, "test", False, FID_IMAGES if shapes else None)[0]
            fid = end_of_run_fid(model, held_out, self.fid_features, config.training.seed)
            report.update(fid)
            if verbose:
                print(describe_fid(fid))
        if report:
            write_json(report, os.path.join(run_dir, "metrics.json"))
        return history


# Run values a recipe may set (GenerationRecipe fields), and the fallback where it does not.
RECIPE_DEFAULTS = {
    "dataset": ("data", "shapes"),
    "image_size": ("data", 64),
    "batch_size": ("data", 32),
    "num_examples": ("data", None),
    "latent_dim": ("model", 128),
    "filters": ("model", None),
    "d_filters": ("model", None),
    "epochs": ("training", 20),
    "learning_rate": ("training", None),
    "d_learning_rate": ("training", None),
    "ema": ("model", None),
}


def choose_recipe_defaults(config):
    """Fills the unset fields of a generation ``RunConfig`` from its recipe; returns lines
    saying what the recipe chose."""
    recipe = get_recipe(config.model.model)
    chosen = []
    for name, (section, fallback) in RECIPE_DEFAULTS.items():
        values = getattr(config, section)
        if getattr(values, name) is None:
            value = getattr(recipe, name, None)
            setattr(values, name, fallback if value is None else value)
            if value is not None:
                chosen.append(f"{name} {value}")
    return [f"recipe {recipe.name}: {', '.join(chosen)}"] if chosen else []


def train_generation(model=None, dataset=None, *, config=None, callbacks=None, verbose=1,
                     progress=None, **options):  # fmt: skip
    """Trains a generation recipe into a new run directory.

    The run is described by a generation ``RunConfig`` (``keras_segen.runs.RunConfig``),
    given as ``config`` or built from keyword arguments named as its fields (``keras-segen
    train-gan --help`` lists them with their defaults); fields left unset take the
    recipe's values (``keras_segen.trainers.get_recipe``).

    Main options:
        model: a generation recipe (``keras_segen.trainers.list_recipes()``): ``"dcgan"``
            (BCE, Radford et al.), ``"wgan-gp"`` (LayerNorm critic, gradient penalty;
            its recipe's steps and rate: ``get_recipe("wgan-gp")``), ``"cgan"``
            (class-conditional, needs labels), ``"vae"``
            or ``"pix2pix"`` (label map -> image on a segmentation dataset).
        dataset: ``"shapes"``, a TFDS name or a folder (``load_images`` /
            ``load_segmentation`` for pix2pix).
        out: run directory; must not hold a run already.
        epochs, batch_size, learning_rate, num_examples: as named.
        image_size: side of the square images (32-256, a power of two for DCGAN and VAE).
        latent_dim, filters, d_filters: latent size and the widths of the networks.
        channels: 1 or 3.
        ema: generator weight averaging decay for the GANs, e.g. 0.999.
        strategy: ``None``, ``"mirrored"``, ``"multiworker"``, a ``tf.distribute.Strategy``,
            or ``"data_parallel"`` on JAX.

    Args:
        model: the recipe name (or a generation ``RunConfig``, as ``config``).
        dataset: the dataset.
        config: a generation ``RunConfig`` (then no other options).
        callbacks: extra Keras callbacks.
        verbose: 0 prints nothing; 1 prints the recipe's choices and the results.
        progress: Keras' ``fit`` verbosity (default: ``verbose``).
        **options: ``RunConfig`` fields by name.

    Returns:
        The training history as ``{column: [values per epoch]}``.

    Example:
        >>> history = keras_segen.train_generation(model="dcgan", dataset="shapes", epochs=2,
        ...     image_size=32, num_examples=32, filters=16, out="runs/dcgan", verbose=0)
        >>> history["epoch"], sorted(history)
        ([1, 2], ['d_loss', 'epoch', 'g_loss'])
        >>> import os
        >>> sorted(os.listdir("runs/dcgan"))  # samples/: a grid per epoch; metrics.json: FID
        ['config.json', 'curves.png', 'history.csv', 'last.keras', 'logs', 'metrics.json',
         'samples', 'state.json']
    """
    config, strategy = config_of_call(
        "generation", model, dataset, config, options, out="runs/gan"
    )
    get_recipe(config.model.model)  # raises for an unknown recipe
    size = config.data.image_size
    if size is not None:
        if not isinstance(size, int):
            raise ValueError(f"image_size must be one int (square images); got {size!r}.")
        image_size_pair(size)
    config.data.pipeline = resolve_pipeline(config.data.pipeline)
    progress = verbose if progress is None else progress
    if continues_restarted_worker(config):
        out = config.output.out
        return resume_run(GenerationTask(), out, None, strategy, callbacks, verbose, progress)
    check_new_run(config.output.out, config.training.epochs)
    return create_run(GenerationTask(), config, strategy, callbacks, verbose, progress)


def resume_generation(run_dir, epochs=None, strategy=None, callbacks=None, verbose=1,
                      progress=None, **distribution):  # fmt: skip
    """Continues a generation run from its last completed epoch, optimizer state included.

    Args:
        run_dir: a directory written by ``train_generation``.
        epochs: new total number of epochs (default: the run's own).
        strategy: as for ``train_generation`` (default: the run's own).
        callbacks: extra Keras callbacks.
        verbose: as for ``train_generation``.
        progress: Keras' ``fit`` verbosity (default: ``verbose``).
        **distribution: other fields of the run's ``Distribution`` to change
            (``worker_timeout``, ``coordinator``, ``num_processes``, ``process_id``, ...).

    Returns:
        The full training history.

    Example:
        >>> history = keras_segen.train_generation(model="dcgan", epochs=1, image_size=32,
        ...     num_examples=16, filters=16, out="runs/dcgan", verbose=0)
        >>> history = keras_segen.resume_generation("runs/dcgan", epochs=2, verbose=0)
        >>> history["epoch"]
        [1, 2]
    """
    return resume_run(
        GenerationTask(), run_dir, epochs, strategy, callbacks, verbose,
        verbose if progress is None else progress, distribution,
    )  # fmt: skip


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
    run_config = read_run(run_or_model)[0] if config else None
    figure = None
    if isinstance(trainer, trainers.Pix2Pix):
        if sources is None:
            if not config:
                raise ValueError("A pix2pix .keras file needs sources=... to translate.")
            run_config.model.num_samples = num
            sources = _sample_inputs(run_config)
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
