"""Run directories: train, resume, evaluate, predict, export and the quickstart.

Segmentation (``train``, ``resume``) and generation (``train_generation``,
``resume_generation``) share one lifecycle (``keras_segen.runs.lifecycle``); a run
directory holds ``config.json``, ``last.keras`` (with optimizer state), ``history.csv``,
``state.json``, TensorBoard ``logs/`` and the task's reports and figures.
"""

from keras_segen.runs.checkpoint import RunCheckpoint, read_history
from keras_segen.runs.evaluation import evaluate, evaluate_model, format_report, predict
from keras_segen.runs.export import export_model, export_run
from keras_segen.runs.files import load_run_or_model
from keras_segen.runs.generation import (
    generate,
    paired_report,
    resume_generation,
    train_generation,
)
from keras_segen.runs.quickstart import quickstart
from keras_segen.runs.segmentation import resume, train
from keras_segen.runs.splits import split_plan
from keras_segen.runs.tensorboard import RunTensorBoard

__all__ = [
    "RunCheckpoint",
    "RunTensorBoard",
    "evaluate",
    "evaluate_model",
    "export_model",
    "export_run",
    "format_report",
    "generate",
    "load_run_or_model",
    "paired_report",
    "predict",
    "quickstart",
    "read_history",
    "resume",
    "resume_generation",
    "split_plan",
    "train",
    "train_generation",
]
