"""Run directories: train, resume, evaluate, predict, export and the quickstart.

Segmentation (``train``, ``resume``) and generation (``train_generation``,
``resume_generation``) share one lifecycle (``keras_segen.runs.lifecycle``); a run
directory holds ``config.json``, ``last.keras`` (with optimizer state), ``history.csv``,
``state.json``, TensorBoard ``logs/`` and the task's reports and figures.
Names are imported on first use.
"""

from keras_segen.lazy import lazy_attributes

_EXPORTS = {
    "RunCheckpoint": "keras_segen.runs.checkpoint",
    "RunConfig": "keras_segen.runs.config",
    "RunTensorBoard": "keras_segen.runs.tensorboard",
    "evaluate": "keras_segen.runs.evaluation",
    "evaluate_model": "keras_segen.runs.evaluation",
    "export_run": "keras_segen.runs.export",
    "format_report": "keras_segen.runs.evaluation",
    "fid_extractor": "keras_segen.runs.generation_report",
    "generate": "keras_segen.runs.generation",
    "load_run_or_model": "keras_segen.runs.files",
    "paired_report": "keras_segen.runs.generation_report",
    "predict": "keras_segen.runs.evaluation",
    "quickstart": "keras_segen.runs.quickstart",
    "read_history": "keras_segen.runs.checkpoint",
    "read_run": "keras_segen.runs.files",
    "resume": "keras_segen.runs.segmentation",
    "resume_generation": "keras_segen.runs.generation",
    "split_plan": "keras_segen.runs.splits",
    "train": "keras_segen.runs.segmentation",
    "train_generation": "keras_segen.runs.generation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
