"""Segmentation runs: train into a run directory, resume, evaluate, predict.

A run directory holds ``config.json`` (every argument), ``last.keras`` and ``best.keras``
(model with optimizer state), ``history.csv``, ``state.json`` (epochs completed),
``metrics.json`` (held-out evaluation of the best model), ``curves.png`` and
``predictions.png``.
"""

import os
import shutil
import tempfile

import keras
import numpy as np

from keras_segen import losses, metrics, viz
from keras_segen.data import load_segmentation, mix_datasets
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.data.sources import data_errors_named
from keras_segen.models.generation import label_map_discriminator
from keras_segen.registry import get_model, model_entry
from keras_segen.training.adversarial_segmentation import AdversarialSegmenter
from keras_segen.training.callbacks import RunCheckpoint, read_history, write_json
from keras_segen.training.distribution import dtype_policy, is_chief, resolve_strategy
from keras_segen.training.evaluation import evaluate_model, format_report
from keras_segen.training.run_data import legacy_plan, load_role, split_plan, write_skipped
from keras_segen.training.run_files import read_run, truncate_history
from keras_segen.version import __version__


def _optimizer(config, steps_per_epoch):
    rate = config["learning_rate"]
    if config["schedule"] == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, config["epochs"] * steps_per_epoch)
    return keras.optimizers.Adam(rate)


def _compile(model, config, num_classes, optimizer, d_optimizer=None):
    if isinstance(model, AdversarialSegmenter):
        model.compile(
            optimizer=optimizer, d_optimizer=d_optimizer, jit_compile=config["jit_compile"]
        )
        return
    loss = losses.segmentation_loss(config["loss"], config["ignore_index"])
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[
            metrics.MeanIoU(num_classes, ignore_index=config["ignore_index"]),
            metrics.PixelAccuracy(num_classes, ignore_index=config["ignore_index"]),
        ],
        jit_compile=config["jit_compile"],
    )


def _datasets(config):
    """``(train, validation, info, skipped)`` of a run, following ``config["splits"]``."""
    import tensorflow as tf

    train, info = load_role(config, "train", batch_size=None)
    if config.get("synthetic"):
        synthetic = load_segmentation(
            config["synthetic"], "train", config["image_size"], None, augment=config["augment"],
            num_classes=info.num_classes, seed=config["seed"], ignore_index=config["ignore_index"],
        )  # fmt: skip
        train = mix_datasets(train, synthetic, config["synthetic_ratio"], seed=config["seed"])
    train = train.batch(config["batch_size"]).prefetch(tf.data.AUTOTUNE)
    validation, validation_info = load_role(config, "validation", num_classes=info.num_classes)
    skipped = {"train": info.skipped, "validation": validation_info.skipped}
    return train, validation, info, skipped


def _steps_per_epoch(dataset, config):
    """Batches per epoch; needed by the cosine schedule, so unknown counts are an error."""
    steps = int(dataset.cardinality())
    if steps == 0:
        raise ValueError("The training dataset is empty.")
    if steps < 0 and config["schedule"] == "cosine":
        raise ValueError("The training dataset has no known length; use schedule='constant'.")
    return steps


def train(
    model="unet",
    dataset="shapes",
    epochs=10,
    batch_size=16,
    image_size=128,
    out="runs/run",
    num_classes=None,
    model_kwargs=None,
    learning_rate=1e-3,
    schedule="cosine",
    loss="ce_dice",
    augment=True,
    num_examples=None,
    validation_examples=None,
    validation_split=None,
    val_dataset=None,
    layout=None,
    colours=None,
    on_bad="raise",
    mixed_precision=False,
    jit_compile=False,
    strategy=None,
    seed=0,
    ignore_index=255,
    data_dir=None,
    adversarial_weight=0.0,
    discriminator_filters=64,
    synthetic=None,
    synthetic_ratio=0.0,
    callbacks=None,
    verbose=1,
):
    """Trains a registered segmentation model into the run directory ``out``.

    Which data validates and which tests is decided once (``split_plan``) and kept in
    ``config.json`` (``"splits"``); ``metrics.json`` names its split and, when there is
    no test split, says what it evaluated instead.

    Args:
        model: registered model name (``keras_segen.list_models("segmentation")``).
        dataset: ``"shapes"``, a TFDS name or a dataset folder in any layout of
            ``keras_segen.data.layouts`` (see ``load_segmentation``).
        epochs: total number of epochs.
        batch_size: global batch size.
        image_size: int or ``(height, width)``.
        out: run directory; must not hold a run already (use ``resume``).
        num_classes: classes (inferred from the dataset when ``None``).
        model_kwargs: extra builder arguments, e.g. ``{"filters": 16}``.
        learning_rate: Adam learning rate (the start of the schedule).
        schedule: ``"cosine"`` (decay to 0 over all epochs) or ``"constant"``.
        loss: one of ``"ce"``, ``"ce_dice"``, ``"dice"``, ``"focal"``, ``"jaccard"``,
            ``"tversky"``.
        augment: joint augmentation of the training examples.
        num_examples: size of the shapes training split.
        validation_examples: size of the shapes validation and test splits.
        validation_split: a fraction in (0, 1) of the training data held out (seeded) to
            pick ``best.keras``; needed by a source without a validation split.
        val_dataset: another source whose validation split (or all of it) picks
            ``best.keras``.
        layout: folder layout (``keras_segen.data.LAYOUTS``); detected by default.
        colours: colour table of RGB masks (see ``load_segmentation``).
        on_bad: ``"raise"`` stops on any data fault, listing them all; ``"skip"`` trains
            on the good pairs and writes the others to ``skipped.csv`` in the run.

        mixed_precision: build and train under ``mixed_float16``.
        jit_compile: compile the train step with XLA.
        strategy: ``None``, ``"mirrored"``, ``"multiworker"`` or a ``tf.distribute.Strategy``.
        seed: seed of weights, data order and augmentation.
        ignore_index: mask value that is not a class.
        data_dir: TFDS data directory.
        adversarial_weight: lambda > 0 trains with ``AdversarialSegmenter`` (Luc et al.
            2016) and a ``label_map_discriminator``; ``last.keras`` then holds the trainer
            (to resume) and ``best.keras`` the segmenter alone.
        discriminator_filters: width of that discriminator.
        synthetic: a folder of generated ``(image, mask)`` pairs (``keras-segen
            synthesize``) mixed into the training split.
        synthetic_ratio: fraction of training examples drawn from ``synthetic``, in [0, 1).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        The ``metrics.json`` content: held-out scores of the best checkpoint.

    Example:
        >>> report = keras_segen.train("unet", "shapes", epochs=2, image_size=32, num_examples=32,
        ...     validation_examples=16, model_kwargs={"filters": 8}, out="runs/unet", verbose=0)
        >>> 0 <= report["mean_iou"] <= 1, report["images"]  # scores of the 16 test images
        (True, 16)
        >>> import os
        >>> sorted(os.listdir("runs/unet"))
        ['best.keras', 'config.json', 'curves.png', 'history.csv', 'last.keras', 'metrics.json',
         'predictions.png', 'state.json']
    """
    entry = model_entry(model)
    if entry.task != "segmentation":
        raise ValueError(
            f"train() trains segmentation models; {model!r} is {entry.task} (use "
            "train_generation / `keras-segen train-gan`)."
        )
    losses.segmentation_loss(loss)  # raises for an unknown name
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant'; got {schedule!r}.")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
    if (synthetic is None) != (not synthetic_ratio):
        raise ValueError(
            "synthetic and synthetic_ratio go together: give a folder of generated pairs and "
            f"a ratio in (0, 1); got synthetic={synthetic!r}, synthetic_ratio={synthetic_ratio!r}."
        )
    if os.path.exists(os.path.join(out, "state.json")):
        raise ValueError(f"{out} already holds a run; resume it or choose another --out.")
    config = {
        "model": model,
        "dataset": str(dataset),
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "num_classes": num_classes,
        "model_kwargs": model_kwargs or {},
        "learning_rate": learning_rate,
        "schedule": schedule,
        "loss": loss,
        "augment": augment,
        "num_examples": num_examples,
        "validation_examples": validation_examples,
        "validation_split": validation_split,
        "val_dataset": None if val_dataset is None else str(val_dataset),
        "layout": layout,
        "colours": str(colours) if isinstance(colours, (str, os.PathLike)) else colours,
        "on_bad": on_bad,
        "mixed_precision": mixed_precision,
        "jit_compile": jit_compile,
        "strategy": strategy
        if isinstance(strategy, (str, type(None)))
        else type(strategy).__name__,
        "seed": seed,
        "ignore_index": ignore_index,
        "data_dir": data_dir,
        "adversarial_weight": adversarial_weight,
        "discriminator_filters": discriminator_filters,
        "synthetic": None if synthetic is None else str(synthetic),
        "synthetic_ratio": synthetic_ratio,
    }
    config["splits"] = split_plan(dataset, validation_split, val_dataset, layout, data_dir)
    distribution = resolve_strategy(strategy)
    keras.utils.set_random_seed(seed)
    train_data, validation_data, info, skipped = _datasets(config)
    config["num_classes"] = info.num_classes
    config["class_names"] = list(info.class_names)
    config["class_colours"] = info.class_colours and [list(c) for c in info.class_colours]
    size = image_size_pair(image_size)
    with dtype_policy(
        "mixed_float16" if mixed_precision else keras.mixed_precision.global_policy().name
    ):
        with distribution.scope():
            network = get_model(
                model,
                input_shape=(*size, 3),
                num_classes=info.num_classes,
                **config["model_kwargs"],
            )
            if adversarial_weight:
                network = AdversarialSegmenter(
                    network,
                    label_map_discriminator(
                        (*size, 3), info.num_classes, filters=discriminator_filters
                    ),
                    adversarial_weight,
                    loss=loss,
                    ignore_index=ignore_index,
                )
            optimizer = _optimizer(config, _steps_per_epoch(train_data, config))
            _compile(network, config, info.num_classes, optimizer)
    config["keras_segen_version"] = __version__
    os.makedirs(out, exist_ok=True)
    if is_chief(distribution):
        write_json(config, os.path.join(out, "config.json"))
        write_skipped(out, skipped)
    return _fit(
        network, config, out, distribution, train_data, validation_data, 0, None, callbacks, verbose
    )


def resume(run_dir, epochs=None, strategy=None, callbacks=None, verbose=1):
    """Continues an interrupted run from its last completed epoch, optimizer state included.

    Args:
        run_dir: a directory written by ``train``.
        epochs: new total number of epochs (default: the run's own); only runs with a
            constant learning rate can be extended.
        strategy: as for ``train`` (default: the run's own).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        The ``metrics.json`` content.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2},
        ...     schedule="constant", out="runs/unet", verbose=0)  # cosine runs end at 0
        >>> report = keras_segen.resume("runs/unet", epochs=2, verbose=0)  # one more epoch
        >>> keras_segen.training.read_history("runs/unet")["epoch"]
        [1, 2]
    """
    config, state = read_run(run_dir)
    if config.get("task") == "generation":
        raise ValueError(f"{run_dir} is a generation run; use resume_generation.")
    if epochs is not None and epochs != config["epochs"]:
        if config["schedule"] == "cosine":
            raise ValueError(
                f"{run_dir} uses a cosine schedule that reaches 0 after its planned "
                f"{config['epochs']} epochs; it cannot be extended. Train with "
                "schedule='constant' to extend runs."
            )
        config["epochs"] = epochs
    done = state["epochs_completed"]
    truncate_history(run_dir, done)
    distribution = resolve_strategy(strategy if strategy is not None else config["strategy"])
    keras.utils.set_random_seed(config["seed"] + done)
    config.setdefault("splits", legacy_plan(config))
    train_data, validation_data, info, _ = _datasets(config)
    # Loading under the run's policy matters: under mixed_float16 the saved optimizer is a
    # LossScaleOptimizer, and Keras restores its variables only when the policy matches.
    policy = "mixed_float16" if config["mixed_precision"] else "float32"
    with dtype_policy(policy), distribution.scope():
        network = keras.models.load_model(os.path.join(run_dir, "last.keras"))
        if isinstance(network, AdversarialSegmenter):
            optimizers = {"optimizer": network.g_optimizer, "d_optimizer": network.d_optimizer}
        else:
            optimizers = {"optimizer": network.optimizer}
        _compile(network, config, info.num_classes, **optimizers)
    if is_chief(distribution):
        write_json(config, os.path.join(run_dir, "config.json"))
    data = (train_data, validation_data)
    best = state.get("best")
    return _fit(network, config, run_dir, distribution, *data, done, best, callbacks, verbose)


def _fit(
    network,
    config,
    out,
    distribution,
    train_data,
    validation_data,
    initial_epoch,
    best,
    callbacks,
    verbose,
):
    chief = is_chief(distribution)
    write_dir = out if chief else tempfile.mkdtemp()
    checkpoint = RunCheckpoint(
        write_dir,
        monitor="val_mean_iou",
        mode="max",
        best=best,
        best_model=lambda model: getattr(model, "segmenter", model),
    )
    if initial_epoch < config["epochs"]:
        with data_errors_named():
            network.fit(
                train_data,
                validation_data=validation_data,
                epochs=config["epochs"],
                initial_epoch=initial_epoch,
                callbacks=[checkpoint, *(callbacks or [])],
                shuffle=False,  # the pipeline shuffles
                verbose=verbose,
            )
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
        return None
    return _finish_run(out, config, verbose)


def _finish_run(run_dir, config, verbose):
    """Held-out evaluation of ``best.keras``, curves and prediction overlays."""
    history = read_history(run_dir)
    viz.plot_curves({k: v for k, v in history.items() if k != "epoch"}).savefig(
        os.path.join(run_dir, "curves.png"), dpi=100
    )
    best = keras.models.load_model(os.path.join(run_dir, "best.keras"), compile=False)
    test = config["splits"]["test"]
    test_data, _ = load_role(config, "test")
    report = evaluate_model(
        best, test_data, config["num_classes"], config["class_names"], config["ignore_index"]
    )
    report = {
        "split": test["split"],
        "dataset": test["source"],
        "evaluated_on": test["note"],
        "epochs": len(history.get("epoch", [])),
        **report,
    }
    write_json(report, os.path.join(run_dir, "metrics.json"))
    images, masks = next(iter(test_data.unbatch().batch(4)))
    predicted = np.argmax(best.predict(images, verbose=0), axis=-1)
    viz.plot_predictions(
        images.numpy(),
        masks.numpy(),
        predicted,
        config["class_names"],
        config["ignore_index"],
        colours=config.get("class_colours"),
    ).savefig(os.path.join(run_dir, "predictions.png"), dpi=100)
    if verbose:
        print(format_report(report))
    return report
