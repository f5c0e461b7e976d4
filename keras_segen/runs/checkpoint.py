"""Callbacks that make a run directory survive interruption."""

import csv
import json
import math
import os
import tempfile

import keras


def atomic_save(model, path):
    """Saves ``model`` to ``path`` through a temporary file, so a crash never leaves half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(suffix=".keras", dir=directory)
    os.close(handle)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json(data, path):
    """Writes ``data`` as indented JSON through a temporary file."""
    temporary = f"{path}.tmp"
    with open(temporary, "w") as file:
        json.dump(data, file, indent=2, default=str)
    os.replace(temporary, path)


def mark_state(run_dir, **fields):
    """Merges ``fields`` (``status``, ``error``) into the run's ``state.json``."""
    path = os.path.join(run_dir, "state.json")
    state = {"epochs_completed": 0}
    if os.path.exists(path):
        with open(path) as file:
            state = json.load(file)
    state.update(fields)
    write_json(state, path)


def without_optimizer(network):
    """A functional ``network`` as a new model over the same layers, uncompiled, so that
    saving it stores the weights without the optimizer's state (a third of the size with
    Adam); other models are returned as they are."""
    if isinstance(network, keras.Model) and hasattr(network, "inputs") and network.inputs:
        try:
            return keras.Model(network.input, network.output, name=network.name)
        except (TypeError, ValueError):  # a subclassed model with symbolic inputs
            return network
    return network


class RunCheckpoint(keras.callbacks.Callback):
    """At the end of every epoch: ``last.keras``, ``best.keras``, ``history.csv``, ``state.json``.

    ``state.json`` is written last, so it only ever names an epoch whose checkpoint and
    history row are complete; resuming starts right after it. ``best.keras`` holds the
    network without optimizer state, and never comes from a diverged epoch: one whose
    validation loss is not finite or more than ``divergence`` times its training loss.

    Args:
        run_dir: the run directory.
        monitor: the log entry that decides ``best.keras``.
        mode: ``"max"`` or ``"min"``.
        best: the best value so far (when resuming).
        write: ``False`` on non-chief workers of a multi-worker run.
        best_model: ``model -> network`` saved as ``best.keras`` (default: the model), e.g.
            the segmenter of an ``AdversarialSegmenter``.
        divergence: the validation/training loss ratio above which an epoch is diverged.

    Example:
        >>> data = keras_segen.data.load_segmentation("shapes", image_size=32, num_examples=8)
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2)
        >>> model.compile("adam", keras_segen.losses.CrossEntropy(),
        ...               metrics=[keras_segen.metrics.MeanIoU(num_classes=4)])
        >>> checkpoint = keras_segen.runs.RunCheckpoint("runs/mine")
        >>> history = model.fit(
        ...     data, validation_data=data, epochs=2, callbacks=[checkpoint], verbose=0)
        >>> import os
        >>> sorted(os.listdir("runs/mine"))
        ['best.keras', 'history.csv', 'last.keras', 'state.json']
    """

    def __init__(
        self, run_dir, monitor="val_mean_iou", mode="max", best=None, write=True, best_model=None,
        divergence=10.0,
    ):  # fmt: skip
        super().__init__()
        self.run_dir = run_dir
        self.best_model = best_model or (lambda model: model)
        self.monitor = monitor
        self.mode = mode
        self.best = best
        self.write = write
        self.divergence = divergence

    @staticmethod
    def diverged(logs, divergence=10.0):
        """Whether an epoch's validation loss is not finite or ``divergence`` x its loss."""
        loss, val_loss = logs.get("loss"), logs.get("val_loss")
        if val_loss is None:
            return False
        return not math.isfinite(val_loss) or (
            loss is not None and math.isfinite(loss) and val_loss > divergence * max(loss, 1e-3)
        )

    def _improved(self, value):
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_train_begin(self, logs=None):
        if self.write:
            os.makedirs(self.run_dir, exist_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = {key: float(value) for key, value in (logs or {}).items()}
        if not self.write:
            return
        atomic_save(self.model, os.path.join(self.run_dir, "last.keras"))
        value = logs.get(self.monitor)
        if self._improved(value) and not self.diverged(logs, self.divergence):
            self.best = value
            network = without_optimizer(self.best_model(self.model))
            atomic_save(network, os.path.join(self.run_dir, "best.keras"))
        history_path = os.path.join(self.run_dir, "history.csv")
        row = {"epoch": epoch + 1, **logs}
        new_file = not os.path.exists(history_path)
        with open(history_path, "a", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        state = {
            "epochs_completed": epoch + 1, "monitor": self.monitor, "best": self.best,
            "status": "training", "error": None,
        }  # fmt: skip
        write_json(state, os.path.join(self.run_dir, "state.json"))


def read_history(run_dir):
    """``history.csv`` of a run as ``{column: [values]}`` (floats; ``epoch`` as ints).

    Example:
        >>> report = keras_segen.train("unet", epochs=2, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> history = keras_segen.runs.read_history("runs/unet")
        >>> history["epoch"], 0 <= history["val_mean_iou"][-1] <= 1
        ([1, 2], True)
    """
    path = os.path.join(run_dir, "history.csv")
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    history = {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else [])}
    if "epoch" in history:
        history["epoch"] = [int(value) for value in history["epoch"]]
    return history
