"""Segmentation runs: train into a run directory, resume, evaluate, predict.

A run directory holds ``config.json`` (every argument), ``last.keras`` and ``best.keras``
(model with optimizer state), ``history.csv``, ``state.json`` (epochs completed),
``metrics.json`` (held-out evaluation of the best model), ``curves.png`` and
``predictions.png``.
"""

import contextlib
import csv
import json
import os
import pathlib
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from keras_segen import __version__, losses, metrics, viz
from keras_segen.data import load_segmentation, mix_datasets
from keras_segen.data.preprocessing import image_size_pair, preprocess_image
from keras_segen.models.generation import label_map_discriminator
from keras_segen.registry import get_model, model_entry
from keras_segen.training.adversarial_segmentation import AdversarialSegmenter
from keras_segen.training.callbacks import RunCheckpoint, read_history, write_json

STRATEGIES = (None, "default", "mirrored", "multiworker")


def _strategy(strategy):
    """A ``tf.distribute.Strategy`` from a name or an instance."""
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES} or a Strategy; got {strategy!r}.")
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def _is_chief(strategy):
    """Only the chief of a multi-worker run writes the run directory."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


@contextlib.contextmanager
def _policy(name):
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


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


def _datasets(config, seed_offset=0):
    common = dict(
        image_size=config["image_size"],
        batch_size=config["batch_size"],
        ignore_index=config["ignore_index"],
        num_classes=config["num_classes"],
        seed=config["seed"],
        data_dir=config.get("data_dir"),
    )
    train, info = load_segmentation(
        config["dataset"],
        "train",
        augment=config["augment"],
        num_examples=config["num_examples"],
        with_info=True,
        **{**common, "batch_size": None},
    )
    if config.get("synthetic"):
        synthetic = load_segmentation(
            config["synthetic"],
            "train",
            augment=config["augment"],
            **{**common, "batch_size": None, "num_classes": info.num_classes},
        )
        train = mix_datasets(train, synthetic, config["synthetic_ratio"], seed=config["seed"])
    train = train.batch(config["batch_size"]).prefetch(tf.data.AUTOTUNE)
    validation = load_segmentation(
        config["dataset"],
        config["validation_split"],
        num_examples=config["validation_examples"],
        **common,
    )
    return train, validation, info


def _steps_per_epoch(dataset, config):
    """Batches per epoch; needed by the cosine schedule, so unknown counts are an error."""
    steps = int(dataset.cardinality())
    if steps == 0:
        raise ValueError("The training dataset is empty.")
    if steps < 0 and config["schedule"] == "cosine":
        raise ValueError("The training dataset has no known length; use schedule='constant'.")
    return steps


@contextlib.contextmanager
def _clear_pipeline_errors():
    """Turns the pipeline's own checks (file names, label ranges) into plain ValueErrors."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        message = error.message.split("\n")[0]
        raise ValueError(f"Invalid data: {message}") from None


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
    validation_split="validation",
    test_split="test",
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

    Args:
        model: registered model name (``keras_segen.list_models("segmentation")``).
        dataset: ``"shapes"``, a TFDS name or a folder (see ``load_segmentation``).
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
        validation_split: split used to pick ``best.keras``.
        test_split: held-out split for ``metrics.json``.
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
        "test_split": test_split,
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
    distribution = _strategy(strategy)
    keras.utils.set_random_seed(seed)
    train_data, validation_data, info = _datasets(config)
    config["num_classes"] = info.num_classes
    config["class_names"] = list(info.class_names)
    size = image_size_pair(image_size)
    with _policy(
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
    if _is_chief(distribution):
        write_json(config, os.path.join(out, "config.json"))
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
    config, state = _read_run(run_dir)
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
    _truncate_history(run_dir, done)
    distribution = _strategy(strategy if strategy is not None else config["strategy"])
    keras.utils.set_random_seed(config["seed"] + done)
    train_data, validation_data, info = _datasets(config)
    # Loading under the run's policy matters: under mixed_float16 the saved optimizer is a
    # LossScaleOptimizer, and Keras restores its variables only when the policy matches.
    policy = "mixed_float16" if config["mixed_precision"] else "float32"
    with _policy(policy), distribution.scope():
        network = keras.models.load_model(os.path.join(run_dir, "last.keras"))
        if isinstance(network, AdversarialSegmenter):
            optimizers = {"optimizer": network.g_optimizer, "d_optimizer": network.d_optimizer}
        else:
            optimizers = {"optimizer": network.optimizer}
        _compile(network, config, info.num_classes, **optimizers)
    if _is_chief(distribution):
        write_json(config, os.path.join(run_dir, "config.json"))
    return _fit(
        network,
        config,
        run_dir,
        distribution,
        train_data,
        validation_data,
        done,
        state.get("best"),
        callbacks,
        verbose,
    )


def _read_run(run_dir):
    paths = [os.path.join(run_dir, name) for name in ("config.json", "state.json", "last.keras")]
    missing = [os.path.basename(path) for path in paths if not os.path.exists(path)]
    if missing:
        raise ValueError(f"{run_dir} is not a run directory: it lacks {', '.join(missing)}.")
    with open(paths[0]) as file:
        config = json.load(file)
    with open(paths[1]) as file:
        state = json.load(file)
    return config, state


def _truncate_history(run_dir, epochs_completed):
    """Drops rows of ``history.csv`` beyond the last checkpointed epoch (a crash in between)."""
    path = os.path.join(run_dir, "history.csv")
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows[: epochs_completed + 1])


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
    chief = _is_chief(distribution)
    write_dir = out if chief else tempfile.mkdtemp()
    checkpoint = RunCheckpoint(
        write_dir,
        monitor="val_mean_iou",
        mode="max",
        best=best,
        best_model=lambda model: getattr(model, "segmenter", model),
    )
    if initial_epoch < config["epochs"]:
        with _clear_pipeline_errors():
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
    test_data = load_segmentation(
        config["dataset"],
        config["test_split"],
        config["image_size"],
        config["batch_size"],
        num_classes=config["num_classes"],
        num_examples=config["validation_examples"],
        seed=config["seed"],
        ignore_index=config["ignore_index"],
        data_dir=config.get("data_dir"),
    )
    report = evaluate_model(
        best, test_data, config["num_classes"], config["class_names"], config["ignore_index"]
    )
    report = {"split": config["test_split"], "epochs": len(history.get("epoch", [])), **report}
    write_json(report, os.path.join(run_dir, "metrics.json"))
    images, masks = next(iter(test_data.unbatch().batch(4)))
    predicted = np.argmax(best.predict(images, verbose=0), axis=-1)
    viz.plot_predictions(
        images.numpy(), masks.numpy(), predicted, config["class_names"], config["ignore_index"]
    ).savefig(os.path.join(run_dir, "predictions.png"), dpi=100)
    if verbose:
        print(format_report(report))
    return report


def evaluate_model(model, dataset, num_classes, class_names=None, ignore_index=255):
    """Streams ``dataset`` through ``model``: ``segmentation_report`` plus ``confusion_matrix``.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2)
        >>> test_data = keras_segen.data.load_segmentation("shapes", "test", 32, num_examples=8)
        >>> report = keras_segen.evaluate_model(model, test_data, num_classes=4)
        >>> sorted(report)
        ['confusion_matrix', 'images', 'mean_dice', 'mean_iou', 'mean_precision', 'mean_recall',
         'per_class', 'pixel_accuracy', 'seconds']
    """
    metric = metrics.MeanIoU(num_classes, ignore_index=ignore_index)
    start = time.perf_counter()
    count = 0
    with _clear_pipeline_errors():
        for images, masks in dataset:
            metric.update_state(masks, model(images, training=False))
            count += int(images.shape[0])
    if count == 0:
        raise ValueError("The evaluation dataset is empty.")
    report = metric.report(class_names)
    report["confusion_matrix"] = keras.ops.convert_to_numpy(metric.matrix).astype(int).tolist()
    report["images"] = count
    report["seconds"] = round(time.perf_counter() - start, 2)
    return report


def format_report(report):
    """The per-class table of a report as text.

    Example:
        >>> matrix = [[1.0, 1.0], [0.0, 2.0]]  # rows: true class, columns: predicted
        >>> report = keras_segen.metrics.segmentation_report(matrix, ["background", "circle"])
        >>> print(keras_segen.training.format_report(report))
        class                IoU    Dice   prec.  recall     pixels
        background        0.5000  0.6667  1.0000  0.5000          2
        circle            0.6667  0.8000  0.6667  1.0000          2
        mean              0.5833  0.7333  0.8333  0.7500
        pixel accuracy 0.7500
    """
    lines = [f"{'class':16s} {'IoU':>7s} {'Dice':>7s} {'prec.':>7s} {'recall':>7s} {'pixels':>10s}"]
    for name, scores in report["per_class"].items():
        lines.append(
            f"{name:16s} {scores['iou']:7.4f} {scores['dice']:7.4f} {scores['precision']:7.4f} "
            f"{scores['recall']:7.4f} {scores['support']:10d}"
        )
    lines.append(
        f"{'mean':16s} {report['mean_iou']:7.4f} {report['mean_dice']:7.4f} "
        f"{report['mean_precision']:7.4f} {report['mean_recall']:7.4f}"
    )
    lines.append(f"pixel accuracy {report['pixel_accuracy']:.4f}")
    return "\n".join(lines)


def load_run_or_model(path):
    """``(model, config)`` from a run directory (its ``best.keras``) or a ``.keras`` file.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> model, config = keras_segen.training.load_run_or_model("runs/unet")
        >>> model.output_shape, config["model"], config["num_classes"]
        ((None, 32, 32, 4), 'unet', 4)
    """
    path = pathlib.Path(path)
    if path.is_dir():
        config, _ = _read_run(path)
        model_path = path / "best.keras" if (path / "best.keras").exists() else path / "last.keras"
        return keras.models.load_model(model_path, compile=False), config
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"{path} is neither a run directory nor a .keras file.")
    return keras.models.load_model(path, compile=False), {}


def evaluate(
    run_or_model,
    dataset=None,
    split="test",
    image_size=None,
    batch_size=16,
    num_classes=None,
    out=None,
    verbose=1,
):
    """Evaluates a run or a ``.keras`` model; writes ``evaluation.json`` and a confusion plot.

    Args:
        run_or_model: run directory or ``.keras`` file.
        dataset: dataset source (default: the run's).
        split: split to evaluate.
        image_size: input size (default: the run's, or the model's fixed input size).
        batch_size: batch size.
        num_classes: classes (default: the model's output channels).
        out: where to write (default: the run directory, or beside the model file).
        verbose: print the per-class table.

    Returns:
        The report dict.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> report = keras_segen.evaluate("runs/unet", split="test", verbose=0)
        >>> 0 <= report["mean_iou"] <= 1, list(report["per_class"])
        (True, ['background', 'circle', 'rectangle', 'triangle'])
    """
    model, config = load_run_or_model(run_or_model)
    dataset = dataset or config.get("dataset")
    if dataset is None:
        raise ValueError("dataset is needed to evaluate a .keras file.")
    image_size = image_size or config.get("image_size") or _fixed_size(model)
    num_classes = num_classes or config.get("num_classes") or int(model.output.shape[-1])
    data, info = load_segmentation(
        dataset,
        split,
        image_size,
        batch_size,
        num_classes=num_classes,
        num_examples=config.get("validation_examples")
        if dataset == config.get("dataset")
        else None,
        seed=config.get("seed", 0),
        ignore_index=config.get("ignore_index", 255),
        with_info=True,
    )
    report = evaluate_model(
        model, data, num_classes, info.class_names, config.get("ignore_index", 255)
    )
    out = pathlib.Path(
        out
        or (
            run_or_model
            if pathlib.Path(run_or_model).is_dir()
            else pathlib.Path(run_or_model).parent
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    write_json({"dataset": str(dataset), "split": split, **report}, out / "evaluation.json")
    viz.plot_confusion_matrix(report["confusion_matrix"], info.class_names).savefig(
        out / "confusion_matrix.png", dpi=100
    )
    if verbose:
        print(format_report(report))
    return report


def _fixed_size(model):
    height, width = model.input.shape[1:3]
    if height is None or width is None:
        raise ValueError("The model takes any size; give image_size.")
    return (height, width)


def predict(run_or_model, inputs, out, image_size=None):
    """Writes ``<name>_mask.png`` and ``<name>_overlay.png`` for an image or a folder of images.

    Args:
        run_or_model: run directory or ``.keras`` file.
        inputs: an image file or a folder of PNG/JPEG images.
        out: output folder.
        image_size: model input size (default: the run's or the model's).

    Returns:
        The paths written.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> import os, PIL.Image
        >>> os.makedirs("photos")
        >>> image, _ = keras_segen.data.shapes_example(0, image_size=48)
        >>> PIL.Image.fromarray((image * 255).astype("uint8")).save("photos/scene.png")
        >>> keras_segen.predict("runs/unet", "photos/", out="predictions/")
        ['predictions/scene_mask.png', 'predictions/scene_overlay.png']
    """
    from PIL import Image

    model, config = load_run_or_model(run_or_model)
    image_size = image_size or config.get("image_size") or _fixed_size(model)
    inputs = pathlib.Path(inputs)
    if inputs.is_dir():
        files = sorted(p for p in inputs.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        if not files:
            raise ValueError(f"No PNG or JPEG images in {inputs}.")
    elif inputs.is_file():
        files = [inputs]
    else:
        raise ValueError(f"{inputs} is neither an image file nor a folder.")
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in files:
        try:
            with Image.open(path) as image:
                original = np.asarray(image.convert("RGB"))
        except Exception as error:
            raise ValueError(f"Cannot read image {path}: {error}") from None
        batch = preprocess_image(tf.constant(original)[None], image_size)
        labels = np.argmax(model.predict(batch, verbose=0)[0], axis=-1).astype(np.uint8)
        labels = np.asarray(Image.fromarray(labels).resize(original.shape[1::-1], Image.NEAREST))
        mask_path, overlay_path = out / f"{path.stem}_mask.png", out / f"{path.stem}_overlay.png"
        Image.fromarray(labels).save(mask_path)
        picture = viz.overlay(original / 255.0, labels)
        Image.fromarray(np.round(picture * 255).astype(np.uint8)).save(overlay_path)
        written += [str(mask_path), str(overlay_path)]
    return written


QUICKSTART = dict(
    model="unet",
    dataset="shapes",
    image_size=64,
    model_kwargs={"filters": 8, "depth": 4},
    num_examples=4000,
    validation_examples=200,
    epochs=6,
    batch_size=8,
    learning_rate=2e-3,
    schedule="cosine",
    augment=False,
    jit_compile=True,
)


def quickstart(out="runs/quickstart", verbose=1, **overrides):
    """Trains a U-Net on the embedded shapes data, evaluates, plots and exports it to int8.

    The settings (``QUICKSTART``) take about four minutes on a 2-core CPU; keyword
    arguments override them (e.g. ``epochs=1, num_examples=64`` for a smoke test).
    ``verbose`` is the Keras verbosity; the summary and the file paths are always printed.

    Returns:
        The held-out report (``metrics.json``) with the int8 TFLite export's report under
        ``"export"`` (``export_model``).

    Example:
        >>> report = keras_segen.quickstart("runs/quickstart")  # doctest: +SKIP
        >>> report = keras_segen.quickstart("runs/smoke", verbose=0, epochs=1, image_size=32,
        ...     num_examples=32, validation_examples=16)  # a smoke test
        <BLANKLINE>
        quickstart: held-out mean IoU ... (16 test images) after ... s
          runs/smoke/metrics.json
          runs/smoke/curves.png
          runs/smoke/predictions.png
          runs/smoke/best.keras
        quickstart: int8 TFLite runs/smoke/model_int8.tflite (... kB): argmax agreement ...
        >>> report["export"]["artifact"]
        'runs/smoke/model_int8.tflite'
    """
    settings = {**QUICKSTART, **overrides}
    if os.path.exists(os.path.join(out, "state.json")):
        print(f"quickstart: replacing the previous quickstart run in {out}")
        shutil.rmtree(out)
    start = time.perf_counter()
    report = train(out=out, verbose=verbose, **settings)
    print(
        f"\nquickstart: held-out mean IoU {report['mean_iou']:.4f} "
        f"({report['images']} test images) after {time.perf_counter() - start:.0f} s"
    )
    for name in ("metrics.json", "curves.png", "predictions.png", "best.keras"):
        print(f"  {os.path.join(out, name)}")
    from keras_segen.training.export_runs import export_model  # export_runs imports runs

    exported = export_model(out, "tflite", quantize="int8", num_samples=32)
    print(
        f"quickstart: int8 TFLite {exported['artifact']} ({exported['size_bytes'] / 1e3:.0f} kB): "
        f"argmax agreement with Keras {exported['argmax_agreement']:.4f}, mean IoU change "
        f"{exported['miou_change']:+.4f}, {exported['speedup']:.1f}x the speed of the eager "
        "Keras model per image"
    )
    report["export"] = exported
    return report
