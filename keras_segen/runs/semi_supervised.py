"""The semi-supervised part of a segmentation run (``--unlabeled``): checks, data, trainer.

With ``data.unlabeled`` a segmentation run trains ``SemiSupervisedSegmenter`` (Hung et al.
2018; ``--semi-method adversarial``) or ``SelfTrainingSegmenter`` (``self-training``) on
``((images, masks), unlabelled images)`` batches; ``best.keras`` holds the segmenter.
"""

from keras_segen.data.sources import SHAPES_SOURCES
from keras_segen.data.unlabelled import load_unlabelled, unlabelled_files, with_unlabelled
from keras_segen.models.generation import confidence_discriminator
from keras_segen.runs.config_fields import SEMI_METHODS, SEMI_PERTURBATIONS, check_choice
from keras_segen.trainers.semi_supervised import SelfTrainingSegmenter, SemiSupervisedSegmenter

WARMUP_SHARE = 4  # the paper: pseudo-labels from step 5000 of 20000
DEFAULT_THRESHOLDS = {"adversarial": 0.2, "self-training": 0.9}


def check_semi_config(config):
    """Refuses semi-supervised options that cannot train, before any data is read."""
    data, model = config.data, config.model
    semi = {
        name: getattr(model, name)
        for name in ("semi_adversarial_weight", "semi_unlabeled_adversarial_weight", "semi_weight")
    }
    for name, value in semi.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
    check_choice("semi_method", model.semi_method, SEMI_METHODS)
    check_choice("semi_perturbation", model.semi_perturbation, SEMI_PERTURBATIONS)
    share = model.semi_share
    if share is not None and not (isinstance(share, (int, float)) and 0 < share <= 1):
        raise ValueError(f"semi_share must be in (0, 1]; got {share!r}.")
    threshold = model.semi_threshold
    if threshold is not None and not (isinstance(threshold, (int, float)) and 0 <= threshold < 1):
        raise ValueError(f"semi_threshold must be in [0, 1); got {threshold!r}.")
    warmup = model.semi_warmup
    if warmup is not None and (not isinstance(warmup, int) or warmup < 0):
        raise ValueError(f"semi_warmup must be a number of steps >= 0; got {warmup!r}.")
    if not data.unlabeled:
        if data.unlabeled_examples is not None:
            raise ValueError("unlabeled_examples needs unlabeled (a folder of unlabelled images).")
        return
    if model.adversarial_weight:
        raise ValueError(
            "adversarial_weight is Luc et al.'s adversarial training on labelled images only; "
            "with unlabeled images the semi-supervised trainer has its own weights "
            "(--semi-adversarial-weight, --semi-unlabeled-adversarial-weight)."
        )
    if data.pipeline == "numpy":
        raise ValueError(
            "unlabeled (semi-supervised training) needs the tf.data pipeline (TensorFlow)."
        )
    if str(data.unlabeled) not in SHAPES_SOURCES:
        unlabelled_files(data.unlabeled)  # raises for a missing or empty folder


def load_unlabelled_role(config):
    """``(unbatched dataset, info)`` of a run's unlabelled images (each file checked)."""
    data = config.data
    return load_unlabelled(
        data.unlabeled, data.image_size, num_examples=data.unlabeled_examples,
        seed=config.training.seed, on_bad=data.on_bad, with_info=True,
    )  # fmt: skip


def pair_batches(config, labelled_batches, unlabelled, unlabelled_info, said):
    """Labelled and unlabelled batches zipped for ``fit``; resolves the warm-up default and
    adds what was chosen to ``said``."""
    data, model = config.data, config.model
    batches = with_unlabelled(labelled_batches, unlabelled.batch(data.batch_size))
    steps = int(batches.cardinality())
    if model.semi_warmup is None:
        model.semi_warmup = steps * config.training.epochs // WARMUP_SHARE
    confidence = "discriminator" if model.semi_method == "adversarial" else "top softmax"
    if model.semi_share is None:
        where = f"where the {confidence} confidence exceeds {semi_threshold(config):g}"
    else:
        where = f"on the {model.semi_share:.0%} of pixels of highest {confidence} confidence"
    view = ", learnt on colour-perturbed copies" if model.semi_perturbation == "colour" else ""
    said.append(
        f"semi-supervised ({model.semi_method}): {unlabelled_info.num_examples} unlabelled "
        f"images from {data.unlabeled}; {steps} steps per epoch; pseudo-labels {where}"
        f"{view}, from step {model.semi_warmup} (--semi-warmup)"
    )
    return batches


def semi_threshold(config):
    """The run's confidence threshold: given, or the method's default."""
    model = config.model
    given = model.semi_threshold
    return DEFAULT_THRESHOLDS[model.semi_method] if given is None else float(given)


def semi_supervised_trainer(network, config, num_classes):
    """The trainer of a semi-supervised run around ``network``."""
    model = config.model
    common = dict(
        self_training_weight=model.semi_weight,
        confidence_threshold=semi_threshold(config),
        warmup_steps=model.semi_warmup,
        loss=config.training.loss,
        ignore_index=config.data.ignore_index,
        perturbation=None if model.semi_perturbation == "none" else model.semi_perturbation,
        pseudo_label_share=model.semi_share,
    )
    if model.semi_method == "self-training":
        return SelfTrainingSegmenter(network, **common)
    size = network.inputs[0].shape[1:3]
    discriminator = confidence_discriminator(
        (*size, num_classes), filters=model.discriminator_filters
    )
    return SemiSupervisedSegmenter(
        network, discriminator, adversarial_weight=model.semi_adversarial_weight,
        unlabelled_adversarial_weight=model.semi_unlabeled_adversarial_weight, **common,
    )  # fmt: skip
