"""Reading run directories: config and state, history truncation, the model to use."""

import csv
import json
import os
import pathlib
import sys

import keras

from keras_segen.runs.config import RunConfig


def read_run(run_dir):
    """``(RunConfig, state)`` of a run directory; a folder that is not one is a ValueError.

    ``state`` is ``state.json``: ``epochs_completed``, ``best``, and ``status``
    (``"training"``, ``"finished"``, or ``"incomplete"`` with the ``error`` that stopped it).

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> config, state = keras_segen.runs.read_run("runs/unet")
        >>> config.model.model, config.resolved["num_classes"], state["status"]
        ('unet', 4, 'finished')
    """
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        raise ValueError(f"{run_dir} is not a run directory: it has no config.json.")
    with open(path) as file:
        config = RunConfig.from_dict(json.load(file))
    state = {"epochs_completed": 0, "status": "incomplete", "error": None}
    state_path = os.path.join(run_dir, "state.json")
    if os.path.exists(state_path):
        with open(state_path) as file:
            state.update(json.load(file))
    return config, state


def describe_incomplete(run_dir, state):
    """One sentence on a run that did not finish, or ``None`` for a finished run."""
    if state.get("status") == "finished":
        return None
    error = f" ({state['error']})" if state.get("error") else ""
    return f"{run_dir} is incomplete: it stopped after epoch {state['epochs_completed']}{error}"


def truncate_history(run_dir, epochs_completed):
    """Drops rows of ``history.csv`` beyond the last checkpointed epoch (a crash in between)."""
    path = os.path.join(run_dir, "history.csv")
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows[: epochs_completed + 1])


def load_run_or_model(path):
    """``(model, config)`` from a run directory (its ``best.keras``) or a ``.keras`` file.

    ``config`` is the run's ``RunConfig`` as one flat dict (its fields and what it learned
    from its data, ``RunConfig.flat``), or ``{}`` for a ``.keras`` file. An incomplete run
    is used with a note on stderr; one with no checkpoint yet is a ValueError that says so.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> model, config = keras_segen.runs.load_run_or_model("runs/unet")
        >>> model.output_shape, config["model"], config["num_classes"]
        ((None, 32, 32, 4), 'unet', 4)
    """
    path = pathlib.Path(path)
    if path.is_dir():
        config, state = read_run(path)
        incomplete = describe_incomplete(path, state)
        saved = [path / name for name in ("best.keras", "last.keras") if (path / name).exists()]
        model_path = saved[0] if saved else None
        if model_path is None:
            raise ValueError(
                f"{incomplete or path}; it has no checkpoint to use. Train it again "
                f"(`keras-segen train ... --out {path}` replaces it)."
            )
        if incomplete:
            print(f"note: {incomplete}; using {model_path.name}.", file=sys.stderr)
        return keras.models.load_model(model_path, compile=False), config.flat()
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"{path} is neither a run directory nor a .keras file.")
    return keras.models.load_model(path, compile=False), {}
