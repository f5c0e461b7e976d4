"""Which data a segmentation run trains, validates and tests on, recorded in its config.

``split_plan`` decides the three roles once, when a run is created; ``config["splits"]``
keeps the decision, so ``resume`` and ``evaluate`` read exactly the same files (a
``validation_split`` is seeded and deterministic). The rules (docs/datasets.md has the
table):

- train: the source's train split, minus the held-out part with ``validation_split``;
- validation (picks ``best.keras``): the held-out part with ``validation_split``, else
  ``val_dataset`` (its validation split, else all of it), else the source's validation
  split; a source with none of these is an error that says what to pass;
- test (``metrics.json``): the source's test split; else its validation split when
  training did not use it; else the validation data itself, and ``metrics.json`` says so.
"""

import csv
import os

from keras_segen.data import load_segmentation, source_splits
from keras_segen.data.sources import SHAPES_SOURCES

ROLES = ("train", "validation", "test")


def split_plan(dataset, validation_split=None, val_dataset=None, layout=None, data_dir=None):
    """``{role: {"source", "split", "validation_split", "note"}}`` (see the module table).

    Example:
        >>> plan = keras_segen.runs.split_plan("shapes")
        >>> {role: spec["split"] for role, spec in plan.items()}
        {'train': 'train', 'validation': 'validation', 'test': 'test'}
    """
    have = source_splits(dataset, layout, data_dir)
    if "train" not in have:
        raise ValueError(f"{dataset} has no train split; its splits are {', '.join(have)}.")
    source = str(dataset)

    def role(split, note, origin=source, fraction=None):
        return {"source": origin, "split": split, "validation_split": fraction, "note": note}

    plan = {"train": role("train", "the source's train split", fraction=validation_split)}
    if validation_split:
        plan["train"]["note"] = f"the source's train split minus {validation_split:g} held out"
        plan["validation"] = role(
            "validation",
            f"{validation_split:g} of the train split, held out with the run's seed",
            fraction=validation_split,
        )
    elif val_dataset is not None:
        val_splits = source_splits(val_dataset, None, data_dir)
        split = "validation" if "validation" in val_splits else "train"
        plan["validation"] = role(split, f"the {split} split of {val_dataset}", str(val_dataset))
    elif "validation" in have:
        plan["validation"] = role("validation", "the source's validation split")
    else:
        raise ValueError(
            f"{dataset} has no validation split (its splits: {', '.join(have)}): pass "
            "validation_split=0.1 (CLI --validation-split 0.1) to hold out part of the "
            "training data, or val_dataset= (CLI --val-dataset) to name another source."
        )
    official_validation_unused = "validation" in have and (validation_split or val_dataset)
    if "test" in have:
        plan["test"] = role("test", "the source's test split")
    elif official_validation_unused:
        plan["test"] = role(
            "validation", "no test split: the source's validation split, unused in training"
        )
    else:
        plan["test"] = {
            **plan["validation"],
            "note": "no test split: the validation data, which also chose best.keras (an "
            "optimistic estimate)",
        }
    return plan


def load_role(config, role, **overrides):
    """``(dataset, info)`` of a segmentation run's ``role`` (``"train"``, ``"validation"``,
    ``"test"``) from its ``RunConfig``; ``overrides`` are ``load_segmentation`` arguments."""
    data = config.data
    spec = config.resolved["splits"][role]
    training = role == "train"
    own_source = spec["source"] == data.dataset
    shapes_size = data.num_examples if training else data.validation_examples
    kwargs = dict(
        image_size=data.image_size,
        batch_size=data.batch_size,
        ignore_index=data.ignore_index,
        num_classes=config.resolved.get("num_classes") or data.num_classes,
        seed=config.training.seed,
        data_dir=data.data_dir,
        num_examples=shapes_size if spec["source"] in SHAPES_SOURCES else None,
        validation_split=spec["validation_split"],
        layout=data.layout if own_source else None,
        colours=data.colours if own_source else None,
        classes=data.classes if own_source else None,
        on_bad=data.on_bad,
        augment=data.augment if training else "none",
        shuffle=training,
        with_info=True,
        pipeline=data.pipeline,
    )
    return load_segmentation(spec["source"], spec["split"], **{**kwargs, **overrides})


def write_skipped(run_dir, skipped_by_role):
    """Writes ``skipped.csv`` (role, path, problem) when ``on_bad="skip"`` left pairs out."""
    rows = [(role, *item) for role, items in skipped_by_role.items() for item in items]
    if not rows:
        return None
    path = os.path.join(run_dir, "skipped.csv")
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(("role", "path", "problem"))
        writer.writerows(rows)
    return path
