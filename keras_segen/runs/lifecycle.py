"""One run lifecycle for every task: create, fit with checkpoints, resume, finish.

A ``RunTask`` supplies what differs between segmentation and generation (its data, how to
build and compile the model, the checkpoint's monitor, the finishing report); this module
does the rest the same way for both: the run directory, seeds, the dtype policy and
distribution scope, chief-only writes, ``RunCheckpoint``, TensorBoard logs, resuming from
``last.keras`` with the optimizer state.
"""

import collections
import contextlib
import dataclasses
import os
import shutil
import tempfile

import keras

from keras_segen.data.arrays import ArrayBatches, tensorflow_available
from keras_segen.data.sources import data_errors_named
from keras_segen.runs.checkpoint import RunCheckpoint, mark_state, write_json
from keras_segen.runs.config import Distribution, RunConfig
from keras_segen.runs.distribution import (
    KerasDistribution,
    dtype_policy,
    is_chief,
    resolve_strategy,
    spans_processes,
)
from keras_segen.runs.files import describe_incomplete, read_run, truncate_history
from keras_segen.runs.multiworker import check_workers_agree, is_multi_worker, lost_worker
from keras_segen.runs.splits import write_skipped
from keras_segen.runs.tensorboard import RunTensorBoard
from keras_segen.version import __version__

DISTRIBUTION_FIELDS = {field.name for field in dataclasses.fields(Distribution)}
RunData = collections.namedtuple(
    "RunData", "train validation info skipped said", defaults=((),)
)  # said: lines printed at the start of the run (chosen defaults, warnings)


class RunTask:
    """What one kind of run supplies to the lifecycle; subclasses override the hooks."""

    task = None
    monitor = None  # the log entry that picks best.keras (None: no best.keras)
    mode = "max"

    def prepare(self, config):
        """Loads the data of ``config`` as a ``RunData``; may add what it learns to ``config``."""
        raise NotImplementedError

    def build(self, config, data):
        """The compiled model or trainer of a new run (called in the strategy scope)."""
        raise NotImplementedError

    def recompile(self, model, config, data):
        """Re-compiles a loaded ``last.keras`` where its saved compile state is not enough."""

    def phase_ends(self, config):
        """Epochs after which ``enter_phase`` changes the model (e.g. unfreezes an encoder)."""
        return []

    def enter_phase(self, model, config, data, epoch):
        """Prepares ``model`` to train from ``epoch``; returns lines to print."""
        return []

    def extend(self, config, epochs, done, run_dir):
        """Sets the run's total to ``epochs`` (``done`` completed), or raises saying how it
        can be extended; returns lines to print."""
        config.training.epochs = epochs
        return []

    def best_model(self, model):
        """The network saved as ``best.keras``."""
        return model

    def callbacks(self, config, write_dir, data):
        """Task callbacks: sample grids and the like."""
        return []

    def figures(self, config, data):
        """``{tag: model -> matplotlib Figure}`` logged to TensorBoard after every epoch.

        Called after ``callbacks``, and its figures are drawn after theirs each epoch, so a
        figure may be one a task callback already drew.
        """
        return {}

    def finish(self, run_dir, config, model, data, verbose):
        """Reports, plots and files written once training is over; the run's return value."""
        raise NotImplementedError


def check_new_run(out, epochs):
    """Refuses a bad epoch count and a directory that holds a run with a checkpoint (one
    that stopped before its first epoch ended is replaced)."""
    bad = not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1
    if epochs is not None and bad:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
    if os.path.exists(os.path.join(out, "last.keras")):
        raise ValueError(f"{out} already holds a run; resume it or choose another --out.")


def continues_restarted_worker(config):
    """Whether ``config`` is that of a restarted worker of a multi-worker run: its run
    directory holds this run, unfinished, with a checkpoint to continue from (the role of
    ``keras.callbacks.BackupAndRestore``: the same command continues the run)."""
    out = config.output.out
    if config.distribution.strategy != "multiworker":
        return False
    if not os.path.exists(os.path.join(out, "last.keras")):
        return False
    stored, state = read_run(out)
    if state.get("status") == "finished" or stored.task != config.task:
        return False
    given, saved = config.to_dict(), stored.to_dict()
    return all(  # settings left to the run (None, "auto") were chosen when it started
        value in (None, "auto") or value == saved[section].get(name)
        for section, values in given.items()
        if isinstance(values, dict) and section != "resolved"
        for name, value in values.items()
        if name != "out"  # the same folder, perhaps under another path
    )


def strategy_name(strategy):
    """What ``config.json`` records of a strategy: its name, or its class name."""
    return strategy if isinstance(strategy, (str, type(None))) else type(strategy).__name__


def config_of_call(task, model, dataset, config, options, out):
    """``(RunConfig, strategy object or None)`` of a ``train`` / ``train_generation`` call:
    a ``RunConfig`` (also as ``model``), or options by field name with ``model`` and
    ``dataset`` given positionally; a ``tf.distribute.Strategy`` is recorded by name."""
    if isinstance(model, RunConfig):
        model, config = None, model
    options.update({k: v for k, v in (("model", model), ("dataset", dataset)) if v is not None})
    strategy = options.get("strategy")
    if isinstance(strategy, (str, type(None))):
        strategy = None
    else:
        options["strategy"] = strategy_name(strategy)
    if config is None:
        return RunConfig.from_kwargs(task, **{"out": out, **options}), strategy
    if options:
        raise TypeError("Give a RunConfig or keyword options, not both.")
    if config.task != task:
        raise ValueError(f"This call trains a {task} RunConfig; got a {config.task} one.")
    return config, strategy


def create_run(task, config, strategy=None, callbacks=None, verbose=1, progress=1):
    """Builds the model of a ``RunConfig`` and trains it into its new run directory.

    ``strategy`` is a ``tf.distribute.Strategy`` object given to ``train`` (default: the
    configuration's strategy name).
    """
    out = config.output.out
    distribution = resolve_strategy(
        strategy or config.distribution.strategy, config.distribution
    )
    keras.utils.set_random_seed(config.training.seed)
    data = task.prepare(config)
    _say(data.said, verbose)
    policy = (
        "mixed_float16"
        if config.training.mixed_precision
        else keras.mixed_precision.global_policy().name
    )
    with dtype_policy(policy), distribution.scope():
        model = task.build(config, data)
    config.resolved["keras_segen_version"] = __version__
    if is_chief(distribution):
        os.makedirs(out, exist_ok=True)
        write_json(config.to_dict(), os.path.join(out, "config.json"))
        write_skipped(out, data.skipped or {})
    return _fit(task, model, config, distribution, data, 0, None, callbacks, verbose, progress)


def resume_run(task, run_dir, epochs=None, strategy=None, callbacks=None, verbose=1, progress=1,
               distribution=None):  # fmt: skip
    """Continues the run in ``run_dir`` from its last completed epoch, optimizer state
    included; ``distribution`` changes fields of the run's ``Distribution`` settings."""
    config, state = read_run(run_dir)
    for name, value in (distribution or {}).items():
        if name not in DISTRIBUTION_FIELDS or name == "strategy":
            raise TypeError(f"resume() got an unexpected keyword argument {name!r}")
        setattr(config.distribution, name, value)
    if not os.path.exists(os.path.join(run_dir, "last.keras")):
        raise ValueError(
            f"{describe_incomplete(run_dir, state)}, before its first checkpoint: nothing to "
            f"resume. Train it again (`--out {run_dir}` replaces it)."
        )
    if config.task != task.task:
        use = "resume_generation" if config.task == "generation" else "resume"
        raise ValueError(f"{run_dir} is a {config.task} run; use {use}.")
    config.output.out = str(run_dir)
    done = state["epochs_completed"]
    said = []
    if epochs is not None and epochs != config.training.epochs:
        said = task.extend(config, epochs, done, run_dir)
    distribution = resolve_strategy(
        strategy or config.distribution.strategy, config.distribution
    )
    if is_multi_worker(distribution):  # all workers have joined: the chief's writes are done
        state = read_run(run_dir)[1]
        done = state["epochs_completed"]
    if is_chief(distribution):
        truncate_history(run_dir, done)
    keras.utils.set_random_seed(config.training.seed + done)
    data = task.prepare(config)
    _say([*data.said, *said], verbose)
    # Loading under the run's policy matters: under mixed_float16 the saved optimizer is a
    # LossScaleOptimizer, and Keras restores its variables only when the policy matches.
    policy = "mixed_float16" if config.training.mixed_precision else "float32"
    with dtype_policy(policy), distribution.scope():
        model = keras.models.load_model(os.path.join(run_dir, "last.keras"))
        task.recompile(model, config, data)
    if is_chief(distribution):
        write_json(config.to_dict(), os.path.join(run_dir, "config.json"))
    best = state.get("best")
    return _fit(task, model, config, distribution, data, done, best, callbacks, verbose, progress)


def _say(lines, verbose):
    if verbose:
        for line in lines:
            print(f"keras-segen: {line}")


def _build_optimizer(model, distribution):
    """Creates the optimizer's variables before ``fit``. Created inside the first traced
    train step instead, they make TensorFlow trace that step a second time, which was a
    third of a small run's time."""
    optimizer = model.optimizer
    if optimizer is not None and not optimizer.built:
        with distribution.scope():
            optimizer.build(model.trainable_variables)


def _fit(task, model, config, distribution, data, initial_epoch, best, callbacks, verbose,
         progress):  # fmt: skip
    out = config.output.out
    chief = is_chief(distribution)
    write_dir = out if chief else tempfile.mkdtemp()
    run_callbacks = [
        RunCheckpoint(
            write_dir,
            monitor=task.monitor,
            mode=task.mode,
            best=best,
            best_model=task.best_model,
        ),  # fmt: skip
        *task.callbacks(config, write_dir, data),
    ]
    processes = spans_processes(distribution)
    if processes and isinstance(data.train, ArrayBatches):
        raise ValueError(
            "data_parallel across JAX processes shards tf.data pipelines (Keras' "
            "distribute_dataset); use pipeline='tf.data' (TensorFlow installed)."
        )
    # Across JAX processes every process draws the figures: each computation on the model
    # needs all of them (the others write to their temporary folder).
    if config.output.tensorboard and (chief or processes):
        if tensorflow_available():
            logs = os.path.join(write_dir, "logs")
            run_callbacks.append(RunTensorBoard(logs, task.figures(config, data)))
        elif verbose and chief:
            print("TensorBoard logs/ are not written: they need TensorFlow (tf.summary).")
    try:
        if is_multi_worker(distribution):
            check_workers_agree(distribution, initial_epoch, out)
        if initial_epoch < config.training.epochs:
            # keras.distribution (JAX) shards data and variables while it is the global one.
            fit_scope = (
                distribution.scope()
                if isinstance(distribution, KerasDistribution)
                else contextlib.nullcontext()
            )
            _say(task.enter_phase(model, config, data, initial_epoch), verbose)
            ends = [e for e in task.phase_ends(config) if e > initial_epoch]
            for start, end in zip([initial_epoch, *ends], [*ends, config.training.epochs]):
                if start > initial_epoch:
                    _say(task.enter_phase(model, config, data, start), verbose)
                _build_optimizer(model, distribution)
                with data_errors_named(), fit_scope:
                    model.fit(
                        data.train,
                        validation_data=data.validation,
                        epochs=end,
                        initial_epoch=start,
                        callbacks=[*run_callbacks, *(callbacks or [])],
                        shuffle=False,  # the pipeline shuffles
                        verbose=progress,
                    )
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)
            return None
        if processes:  # the report runs on the chief alone: on a model of its own
            model = keras.models.load_model(os.path.join(out, "last.keras"))
        result = task.finish(out, config, model, data, verbose)
    except BaseException as error:
        if chief:
            mark_state(out, status="incomplete", error=f"{type(error).__name__}: {error}")
        lost = is_multi_worker(distribution) and lost_worker(error, out)
        if lost:
            raise lost from None
        raise
    mark_state(out, status="finished", error=None)
    return result
