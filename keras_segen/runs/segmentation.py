"""Segmentation runs: train a registered segmenter into a run directory, resume it.

A run directory holds ``config.json`` (every argument), ``last.keras`` and ``best.keras``
(model with optimizer state), ``history.csv``, ``state.json`` (epochs completed),
``logs/`` (TensorBoard), ``metrics.json`` (held-out evaluation of the best model),
``curves.png`` and ``predictions.png``.
"""

import os

import keras
import numpy as np

from keras_segen import losses, metrics, viz
from keras_segen.data import load_segmentation
from keras_segen.data.arrays import first_examples, resolve_pipeline, steps_per_epoch
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.models.generation import label_map_discriminator
from keras_segen.registry import get_model, model_entry
from keras_segen.runs.checkpoint import read_history, write_json
from keras_segen.runs.evaluation import evaluate_model, format_report
from keras_segen.runs.lifecycle import (
    RunData,
    RunTask,
    check_new_run,
    create_run,
    resume_run,
    strategy_name,
)
from keras_segen.runs.splits import legacy_plan, load_role, split_plan
from keras_segen.trainers.adversarial_segmentation import AdversarialSegmenter

PREVIEW_IMAGES = 4


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
    model.compile(
        optimizer=optimizer,
        loss=losses.segmentation_loss(config["loss"], config["ignore_index"]),
        metrics=[
            metrics.MeanIoU(num_classes, ignore_index=config["ignore_index"]),
            metrics.PixelAccuracy(num_classes, ignore_index=config["ignore_index"]),
        ],
        jit_compile=config["jit_compile"],
    )


def _steps_per_epoch(dataset, config):
    """Batches per epoch; needed by the cosine schedule, so unknown counts are an error."""
    steps = steps_per_epoch(dataset)
    if steps == 0:
        raise ValueError("The training dataset is empty.")
    if steps is None and config["schedule"] == "cosine":
        raise ValueError("The training dataset has no known length; use schedule='constant'.")
    return steps


def _predictions_figure(model, images, masks, config):
    network = getattr(model, "segmenter", model)
    predicted = np.argmax(keras.ops.convert_to_numpy(network(images, training=False)), axis=-1)
    return viz.plot_predictions(
        images, masks, predicted, config["class_names"], config["ignore_index"],
        colours=config.get("class_colours"),
    )  # fmt: skip


class SegmentationTask(RunTask):
    """Segmentation runs: ``best.keras`` by validation mean IoU, a held-out report."""

    task = "segmentation"
    monitor = "val_mean_iou"
    mode = "max"

    def prepare(self, config):
        config.setdefault("splits", legacy_plan(config))
        if resolve_pipeline(config.get("pipeline", "tf.data")) == "numpy":
            return self._prepare_arrays(config)
        import tensorflow as tf

        from keras_segen.data.mixing import mix_datasets

        train, info = load_role(config, "train", batch_size=None)
        if config.get("synthetic"):
            synthetic = load_segmentation(
                config["synthetic"], "train", config["image_size"], None,
                augment=config["augment"], num_classes=info.num_classes, seed=config["seed"],
                ignore_index=config["ignore_index"],
            )  # fmt: skip
            train = mix_datasets(train, synthetic, config["synthetic_ratio"], seed=config["seed"])
        train = train.batch(config["batch_size"]).prefetch(tf.data.AUTOTUNE)
        validation, validation_info = load_role(config, "validation", num_classes=info.num_classes)
        return self._data(config, train, validation, info, validation_info)

    def _prepare_arrays(self, config):
        """The NumPy pipeline: ``ArrayBatches`` of train and validation (no synthetic mix)."""
        if config.get("synthetic"):
            raise ValueError("Mixing in synthetic data needs pipeline='tf.data' (TensorFlow).")
        train, info = load_role(config, "train")
        validation, validation_info = load_role(config, "validation", num_classes=info.num_classes)
        return self._data(config, train, validation, info, validation_info)

    def _data(self, config, train, validation, info, validation_info):
        config["num_classes"] = info.num_classes
        config["class_names"] = list(info.class_names)
        config["class_colours"] = info.class_colours and [list(c) for c in info.class_colours]
        skipped = {"train": info.skipped, "validation": validation_info.skipped}
        return RunData(train, validation, info, skipped)

    def build(self, config, data):
        info = data.info
        size = image_size_pair(config["image_size"])
        network = get_model(
            config["model"],
            config.get("preset"),
            input_shape=(*size, 3),
            num_classes=info.num_classes,
            **config["model_kwargs"],
        )
        if config["adversarial_weight"]:
            network = AdversarialSegmenter(
                network,
                label_map_discriminator(
                    (*size, 3), info.num_classes, filters=config["discriminator_filters"]
                ),
                config["adversarial_weight"],
                loss=config["loss"],
                ignore_index=config["ignore_index"],
            )
        optimizer = _optimizer(config, _steps_per_epoch(data.train, config))
        _compile(network, config, info.num_classes, optimizer)
        return network

    def recompile(self, model, config, data):
        if isinstance(model, AdversarialSegmenter):
            optimizers = {"optimizer": model.g_optimizer, "d_optimizer": model.d_optimizer}
        else:
            optimizers = {"optimizer": model.optimizer}
        _compile(model, config, data.info.num_classes, **optimizers)

    def check_epochs(self, config, epochs, run_dir):
        if config["schedule"] == "cosine":
            raise ValueError(
                f"{run_dir} uses a cosine schedule that reaches 0 after its planned "
                f"{config['epochs']} epochs; it cannot be extended. Train with "
                "schedule='constant' to extend runs."
            )

    def best_model(self, model):
        return getattr(model, "segmenter", model)

    def figures(self, config, data):
        images, masks = first_examples(data.validation, PREVIEW_IMAGES)
        return {"predictions": lambda model: _predictions_figure(model, images, masks, config)}

    def finish(self, run_dir, config, model, data, verbose):
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
        images, masks = first_examples(test_data, PREVIEW_IMAGES)
        _predictions_figure(best, images, masks, config).savefig(
            os.path.join(run_dir, "predictions.png"), dpi=100
        )
        if verbose:
            print(format_report(report))
        return report


def train(
    model="unet",
    dataset="shapes",
    epochs=10,
    batch_size=16,
    image_size=128,
    out="runs/run",
    num_classes=None,
    preset=None,
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
    tensorboard=True,
    pipeline="auto",
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
        preset: a preset of the model (``keras_segen.list_presets(model)``) to start from;
            its input shape and class count follow the data.
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
        strategy: ``None``, ``"mirrored"``, ``"multiworker"``, a ``tf.distribute.Strategy``, or
            ``"data_parallel"`` on JAX (``keras.distribution.DataParallel``).
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
        tensorboard: write TensorBoard ``logs/`` (scalars, learning rate, prediction
            overlays of four validation images every epoch; needs TensorFlow).
        pipeline: ``"tf.data"``, ``"numpy"`` (``keras_segen.data.ArrayBatches``: shapes and
            folders, no ``augment``, no ``synthetic``) or ``"auto"`` (tf.data when
            TensorFlow is installed).
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
        ['best.keras', 'config.json', 'curves.png', 'history.csv', 'last.keras', 'logs',
         'metrics.json', 'predictions.png', 'state.json']
    """
    entry = model_entry(model)
    if entry.task != "segmentation":
        raise ValueError(
            f"train() trains segmentation models; {model!r} is {entry.task} (use "
            "train_generation / `keras-segen train-gan`)."
        )
    entry.config(preset)  # raises for an unknown preset
    losses.segmentation_loss(loss)  # raises for an unknown name
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant'; got {schedule!r}.")
    if (synthetic is None) != (not synthetic_ratio):
        raise ValueError(
            "synthetic and synthetic_ratio go together: give a folder of generated pairs and "
            f"a ratio in (0, 1); got synthetic={synthetic!r}, synthetic_ratio={synthetic_ratio!r}."
        )
    pipeline = resolve_pipeline(pipeline)
    if pipeline == "numpy" and augment:
        raise ValueError(
            "augment=True needs the tf.data pipeline (TensorFlow); pass augment=False "
            "(--no-augment) to train with pipeline='numpy'."
        )
    check_new_run(out, epochs)
    config = {
        "task": "segmentation",
        "model": model,
        "dataset": str(dataset),
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "num_classes": num_classes,
        "preset": preset,
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
        "strategy": strategy_name(strategy),
        "seed": seed,
        "ignore_index": ignore_index,
        "data_dir": data_dir,
        "adversarial_weight": adversarial_weight,
        "discriminator_filters": discriminator_filters,
        "synthetic": None if synthetic is None else str(synthetic),
        "synthetic_ratio": synthetic_ratio,
        "tensorboard": tensorboard,
        "pipeline": pipeline,
        "splits": split_plan(dataset, validation_split, val_dataset, layout, data_dir),
    }
    return create_run(SegmentationTask(), config, out, strategy, callbacks, verbose)


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
        >>> keras_segen.runs.read_history("runs/unet")["epoch"]
        [1, 2]
    """
    return resume_run(SegmentationTask(), run_dir, epochs, strategy, callbacks, verbose)
