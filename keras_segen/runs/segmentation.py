"""Segmentation runs: train a registered segmenter into a run directory, resume it.

A run directory holds ``config.json`` (its ``RunConfig``), ``last.keras`` (the model with
its optimizer state, to resume), ``best.keras`` (the network alone), ``history.csv``,
``state.json`` (epochs completed, status), ``logs/`` (TensorBoard), ``metrics.json``
(held-out evaluation of the best model), ``curves.png`` and ``predictions.png``.
"""

import os

import keras
import numpy as np

from keras_segen import losses, metrics, viz
from keras_segen.data import load_segmentation
from keras_segen.data.arrays import (
    ArrayBatches,
    first_examples,
    resolve_pipeline,
    steps_per_epoch,
)
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.inference import predict_batch
from keras_segen.models.generation import label_map_discriminator
from keras_segen.registry import get_model, model_entry
from keras_segen.runs.checkpoint import atomic_save, read_history, without_optimizer, write_json
from keras_segen.runs.defaults import (
    choose_defaults,
    generalisation_warning,
    learning_rate_schedule,
    set_batchnorm_momentum,
)
from keras_segen.runs.encoder_training import (
    encoder_arguments,
    freeze_for_epoch,
    learning_rate_factor,
)
from keras_segen.runs.evaluation import evaluate_model, format_report
from keras_segen.runs.lifecycle import (
    RunData,
    RunTask,
    config_of_call,
    continues_restarted_worker,
    create_run,
    resume_run,
)
from keras_segen.runs.segmentation_checks import check_segmentation_config
from keras_segen.runs.semi_supervised import (
    load_unlabelled_role,
    pair_batches,
    semi_supervised_trainer,
)
from keras_segen.runs.splits import load_role, split_plan
from keras_segen.trainers.adversarial_segmentation import AdversarialSegmenter
from keras_segen.trainers.base import AdversarialTrainer
from keras_segen.trainers.semi_supervised import SelfTrainingSegmenter

PREVIEW_IMAGES = 4


def _compile(model, config, num_classes, optimizer, d_optimizer=None):
    training = config.training
    if isinstance(model, AdversarialTrainer):
        model.compile(
            optimizer=optimizer, d_optimizer=d_optimizer, jit_compile=training.jit_compile
        )
        return
    if isinstance(model, SelfTrainingSegmenter):
        model.compile(optimizer, jit_compile=training.jit_compile)
        return
    ignore_index = config.data.ignore_index
    model.compile(
        optimizer=optimizer,
        loss=losses.segmentation_loss(training.loss, ignore_index),
        metrics=[
            metrics.MeanIoU(num_classes, ignore_index=ignore_index),
            metrics.PixelAccuracy(num_classes, ignore_index=ignore_index),
        ],
        jit_compile=training.jit_compile,
    )


def _predictions_figure(model, images, masks, config):
    network = getattr(model, "segmenter", model)
    predicted = np.argmax(predict_batch(network, images), axis=-1)
    resolved = config.resolved
    return viz.plot_predictions(
        images, masks, predicted, resolved["class_names"], config.data.ignore_index,
        colours=resolved.get("class_colours"),
    )  # fmt: skip


class SegmentationTask(RunTask):
    """Segmentation runs: ``best.keras`` by validation mean IoU, a held-out report."""

    task = "segmentation"
    monitor = "val_mean_iou"
    mode = "max"

    def prepare(self, config):
        data = config.data
        resolved = config.resolved
        if "splits" not in resolved:
            resolved["splits"] = split_plan(
                data.dataset, data.validation_split, data.val_dataset, data.layout, data.data_dir
            )
        numpy = resolve_pipeline(data.pipeline) == "numpy"
        train, info = load_role(config, "train", batch_size=data.batch_size or 1 if numpy else None)
        unlabelled, unlabelled_info = None, None
        if data.unlabeled:
            unlabelled, unlabelled_info = load_unlabelled_role(config)
        said = choose_defaults(
            config, info.num_examples, model_entry(config.model.model).presets,
            epoch_examples=unlabelled_info
            and max(info.num_examples or 0, unlabelled_info.num_examples),
        )  # fmt: skip
        if numpy:
            if train.batch_size != data.batch_size:
                train = ArrayBatches(train.arrays, data.batch_size, True, config.training.seed)
        else:
            import tensorflow as tf

            from keras_segen.data.mixing import mix_datasets

            if data.synthetic:
                synthetic = load_segmentation(
                    data.synthetic, "train", data.image_size, None,
                    augment=data.augment, num_classes=info.num_classes,
                    seed=config.training.seed, ignore_index=data.ignore_index,
                )  # fmt: skip
                train = mix_datasets(train, synthetic, data.synthetic_ratio, config.training.seed)
            train = train.batch(data.batch_size)
            if unlabelled is not None:
                train = pair_batches(config, train, unlabelled, unlabelled_info, said)
            train = train.prefetch(tf.data.AUTOTUNE)
        validation, validation_info = load_role(config, "validation", num_classes=info.num_classes)
        resolved["num_classes"] = info.num_classes
        resolved["class_names"] = list(info.class_names)
        resolved["class_colours"] = info.class_colours and [list(c) for c in info.class_colours]
        resolved["train_examples"] = info.num_examples
        said.append(f"augmentation: {data.augment} (--augment none|geometric|colour|all)")
        empty = info.empty_classes()
        if empty:
            shown = ", ".join(f"{i} {name}" for i, name in empty[:10])
            said.append(
                f"warning: {len(empty)} of {info.num_classes} classes have no pixel in the "
                f"training data: {shown}{' ...' if len(empty) > 10 else ''}"
            )
        skipped = {"train": info.skipped, "validation": validation_info.skipped}
        if unlabelled_info is not None:
            skipped["unlabelled"] = unlabelled_info.skipped
        return RunData(train, validation, info, skipped, said)

    def build(self, config, data):
        size = image_size_pair(config.data.image_size)
        model = config.model
        num_classes = data.info.num_classes
        network = get_model(
            model.model, model.preset, input_shape=(*size, 3), num_classes=num_classes,
            **encoder_arguments(config), **model.model_kwargs,
        )  # fmt: skip
        freeze_for_epoch(network, config, 0)
        if model.batchnorm_momentum is not None:
            set_batchnorm_momentum(network, model.batchnorm_momentum)
        if config.data.unlabeled:
            network = semi_supervised_trainer(network, config, num_classes)
        elif model.adversarial_weight:
            network = AdversarialSegmenter(
                network,
                label_map_discriminator(
                    (*size, 3), num_classes, filters=model.discriminator_filters
                ),
                model.adversarial_weight,
                loss=config.training.loss,
                ignore_index=config.data.ignore_index,
            )
        steps = _steps_per_epoch(data.train, config)
        factor = learning_rate_factor(config, network)
        optimizer = keras.optimizers.Adam(learning_rate_schedule(config, steps, factor))
        _compile(network, config, num_classes, optimizer)
        return network

    def recompile(self, model, config, data):
        if isinstance(model, AdversarialTrainer):
            optimizers = {"optimizer": model.g_optimizer, "d_optimizer": model.d_optimizer}
        else:
            optimizers = {"optimizer": model.optimizer}
        steps = _steps_per_epoch(data.train, config)
        factor = learning_rate_factor(config, self.best_model(model))
        for optimizer in optimizers.values():
            optimizer.learning_rate = learning_rate_schedule(config, steps, factor)
        _compile(model, config, data.info.num_classes, **optimizers)

    def phase_ends(self, config):
        freeze = config.training.freeze_epochs
        return [freeze] if 0 < freeze < config.training.epochs else []

    def enter_phase(self, model, config, data, epoch):
        """Unfreezes the encoder after ``freeze_epochs``: a new optimizer over every layer,
        at ``fine_tune_factor`` times the schedule, continuing its step count."""
        network = self.best_model(model)
        if not freeze_for_epoch(network, config, epoch):
            return []
        steps = _steps_per_epoch(data.train, config)
        factor = learning_rate_factor(config, network)
        optimizer = keras.optimizers.Adam(learning_rate_schedule(config, steps, factor))
        optimizer.iterations.assign(epoch * steps)
        # A trainer keeps its discriminator's optimizer; compiling again also drops the
        # train function traced with the frozen encoder's (shorter) variable list.
        d_optimizer = getattr(model, "d_optimizer", None)
        _compile(model, config, data.info.num_classes, optimizer, d_optimizer)
        return [
            f"epoch {epoch + 1}: encoder unfrozen; every layer trains at {factor:g} times the "
            "learning rate"
        ]

    def extend(self, config, epochs, done, run_dir):
        """A cosine run that finished gets a new cycle to ``epochs``; an unfinished one
        keeps its cycle, so its epoch count cannot change before it ends."""
        training = config.training
        if training.schedule == "constant":
            training.epochs = epochs
            return [f"training on to {epochs} epochs at the constant rate"]
        if done < training.epochs:
            raise ValueError(
                f"{run_dir} stopped at epoch {done} of a cosine cycle of {training.epochs} "
                f"epochs; finish that cycle first (`keras-segen train --resume {run_dir}`), "
                f"then extend it (`keras-segen train --resume {run_dir} --epochs {epochs}`), "
                "which adds a new cosine cycle."
            )
        if epochs <= training.epochs:
            raise ValueError(
                f"{run_dir} already trained {training.epochs} epochs; give more to extend it."
            )
        previous = training.epochs
        training.epochs = epochs
        config.resolved.setdefault("cycle_epochs", [previous]).append(epochs)
        return [
            f"extending with a new cosine cycle over epochs {previous + 1}-{epochs}, restarting "
            f"at learning rate {training.learning_rate:g} (SGDR)"
        ]

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
        best_path = os.path.join(run_dir, "best.keras")
        if not os.path.exists(best_path):  # every epoch diverged (RunCheckpoint.diverged)
            atomic_save(without_optimizer(self.best_model(model)), best_path)
            if verbose:
                print(
                    "keras-segen: warning: no epoch's validation loss tracked its training "
                    "loss (all diverged); best.keras is the last epoch's model"
                )
        best = keras.models.load_model(best_path, compile=False)
        test = config.resolved["splits"]["test"]
        test_data, _ = load_role(config, "test")
        resolved = config.resolved
        report = evaluate_model(
            best, test_data, resolved["num_classes"], resolved["class_names"],
            config.data.ignore_index,
        )  # fmt: skip
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
            gap = generalisation_warning(history)
            if gap:
                print(gap)
        return report


def _steps_per_epoch(dataset, config):
    """Batches per epoch; needed by the cosine schedule, so unknown counts are an error."""
    steps = steps_per_epoch(dataset)
    if steps == 0:
        raise ValueError("The training dataset is empty.")
    if steps is None and config.training.schedule == "cosine":
        raise ValueError("The training dataset has no known length; use schedule='constant'.")
    return steps


def train(model=None, dataset=None, *, config=None, callbacks=None, verbose=1, progress=None,
          **options):  # fmt: skip
    """Trains a registered segmentation model into a new run directory.

    The run is described by a ``RunConfig`` (``keras_segen.runs.RunConfig``), given as
    ``config`` or built from keyword arguments named as its fields (see ``keras-segen train
    --help`` for every field, its default and unit). Fields left unset are chosen from
    the data and said at the start (``keras_segen.runs.defaults``): on fewer than 400
    training images a smaller batch, the model's ``small`` preset, enough epochs for 300
    steps, and a BatchNorm momentum that lets the inference statistics settle.

    Which data validates and which tests is decided once (``split_plan``) and kept in
    ``config.json``; ``metrics.json`` names its split and, when there is no test split,
    says what it evaluated instead.

    Main options:
        model: registered model name (``keras_segen.list_models("segmentation")``).
        dataset: ``"shapes"``, a TFDS name or a dataset folder in any layout of
            ``keras_segen.data.layouts`` (see ``load_segmentation``).
        out: run directory; must not hold a run already (use ``resume``).
        epochs, batch_size, image_size, learning_rate: as named; ``schedule``
            (``"cosine"`` or ``"constant"``) and ``warmup`` (epochs) shape the rate.
        num_classes, classes: the class count and a class file naming the classes; both
            are checked against the data before training.
        validation_split, val_dataset: where the validation data comes from.
        augment: ``"geometric"`` (default), ``"colour"``, ``"all"`` or ``"none"``.
        preset, model_kwargs, batchnorm_momentum: the network.
        adversarial_weight: lambda > 0 trains with ``AdversarialSegmenter`` (Luc et al.
            2016); ``last.keras`` then holds the trainer and ``best.keras`` the segmenter.
        unlabeled: a folder of unlabelled images (or ``"streets"``) trains semi-supervised
            (Hung et al. 2018; ``semi_method``, ``semi_*`` weights, threshold, warm-up).
        strategy: ``None``, ``"mirrored"``, ``"multiworker"``, a ``tf.distribute.Strategy``,
            or ``"data_parallel"`` on JAX.

    Args:
        model: the model name (or a ``RunConfig``, as ``config``).
        dataset: the dataset.
        config: a ``RunConfig`` (then no other options).
        callbacks: extra Keras callbacks.
        verbose: 0 prints nothing; 1 prints the chosen defaults, warnings and the results.
        progress: Keras' ``fit`` verbosity (default: ``verbose``).
        **options: ``RunConfig`` fields by name.

    Returns:
        The ``metrics.json`` content: held-out scores of the best checkpoint.

    Example:
        >>> report = keras_segen.train(model="unet", dataset="shapes", epochs=2, image_size=32,
        ...     num_examples=32, validation_examples=16, model_kwargs={"filters": 8},
        ...     out="runs/unet", verbose=0)
        >>> 0 <= report["mean_iou"] <= 1, report["images"]  # scores of the 16 test images
        (True, 16)
        >>> import os
        >>> sorted(os.listdir("runs/unet"))
        ['best.keras', 'config.json', 'curves.png', 'history.csv', 'last.keras', 'logs',
         'metrics.json', 'predictions.png', 'state.json']
    """
    config, strategy = config_of_call(
        "segmentation", model, dataset, config, options, out="runs/run"
    )
    progress = verbose if progress is None else progress
    if continues_restarted_worker(config):
        out = config.output.out
        return resume_run(SegmentationTask(), out, None, strategy, callbacks, verbose, progress)
    check_segmentation_config(config)
    return create_run(SegmentationTask(), config, strategy, callbacks, verbose, progress)


def resume(run_dir, epochs=None, strategy=None, callbacks=None, verbose=1, progress=None,
           **distribution):  # fmt: skip
    """Continues a run from its last completed epoch, optimizer state included.

    Args:
        run_dir: a directory written by ``train``.
        epochs: new total number of epochs (default: the run's own). A finished cosine
            run gets a new cosine cycle to ``epochs`` (a warm restart); a constant-rate run
            simply trains on.
        strategy: as for ``train`` (default: the run's own).
        callbacks: extra Keras callbacks.
        verbose: as for ``train``.
        progress: Keras' ``fit`` verbosity (default: ``verbose``).
        **distribution: other fields of the run's ``Distribution`` to change
            (``worker_timeout``, ``coordinator``, ``num_processes``, ``process_id``, ...).

    Returns:
        The ``metrics.json`` content.

    Example:
        >>> report = keras_segen.train(model="unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2},
        ...     out="runs/unet", verbose=0)
        >>> report = keras_segen.resume("runs/unet", epochs=2, verbose=0)  # a new cycle
        >>> keras_segen.runs.read_history("runs/unet")["epoch"]
        [1, 2]
    """
    return resume_run(
        SegmentationTask(), run_dir, epochs, strategy, callbacks, verbose,
        verbose if progress is None else progress, distribution,
    )  # fmt: skip
