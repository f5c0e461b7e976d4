"""Reading run directories: config and state, history truncation, the model to use."""

import csv
import json
import os
import pathlib

import keras


def read_run(run_dir):
    """``(config, state)`` of a run directory; a folder that is not one is a ValueError."""
    paths = [os.path.join(run_dir, name) for name in ("config.json", "state.json", "last.keras")]
    missing = [os.path.basename(path) for path in paths if not os.path.exists(path)]
    if missing:
        raise ValueError(f"{run_dir} is not a run directory: it lacks {', '.join(missing)}.")
    with open(paths[0]) as file:
        config = json.load(file)
    with open(paths[1]) as file:
        state = json.load(file)
    return config, state


def truncate_history(run_dir, epochs_completed):
    """Drops rows of ``history.csv`` beyond the last checkpointed epoch (a crash in between)."""
    path = os.path.join(run_dir, "history.csv")
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows[: epochs_completed + 1])


def load_run_or_model(path):
    """``(model, config)`` from a run directory (its ``best.keras``) or a ``.keras`` file.

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
        config, _ = read_run(path)
        model_path = path / "best.keras" if (path / "best.keras").exists() else path / "last.keras"
        return keras.models.load_model(model_path, compile=False), config
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"{path} is neither a run directory nor a .keras file.")
    return keras.models.load_model(path, compile=False), {}
