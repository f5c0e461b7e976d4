"""One typed run configuration shared by the Python API, ``config.json``, resume and the CLI.

A run is described by sections (dataclasses): data, model, training, output and
distribution. ``keras_segen.train`` / ``train_generation`` build one from keyword
arguments (or take one), ``config.json`` stores it (``to_dict``), ``resume`` reads it back
(``from_dict``) and ``keras-segen train`` / ``train-gan`` generate their options from the
fields (``keras_segen.cli.options``): a field's metadata holds its help text, unit and
choices, so adding an option means adding a field and the code that uses it.

What a run learns from its data (class count, names and colours, the split plan) is kept
apart, in ``RunConfig.resolved``.
"""

import dataclasses
import os
import typing

from keras_segen.runs.config_fields import (
    AUGMENTATIONS,
    FID_FEATURES,
    LOSSES,
    ON_BAD,
    PIPELINES,
    SCHEDULES,
    SEMI_METHODS,
    SEMI_PERTURBATIONS,
    STRATEGIES,
    Size,
    option,
)


@dataclasses.dataclass
class SegmentationData:
    """Which data a segmentation run reads and how."""

    dataset: str = option(
        "shapes", "'shapes', 'streets' (embedded), a TFDS name or a dataset folder"
    )
    image_size: Size = option(128, "training size, S or HxW", unit="px")
    batch_size: typing.Optional[int] = option(
        None, "global batch size (default: 16, or 8 with fewer than 400 training images)"
    )
    num_classes: typing.Optional[int] = option(
        None, "classes (default: the dataset's; checked against its class file and masks)"
    )
    classes: typing.Optional[str] = option(
        None, "class file (classes.txt/.json, label_colors.txt, class_dict.csv) naming the "
        "classes of any layout, e.g. a VOC-layout copy of one's own data",
    )  # fmt: skip
    layout: typing.Optional[str] = option(
        None, "dataset folder layout (detected by default)",
        choices=("keras_segen.data.layouts", "LAYOUTS"),
    )  # fmt: skip
    colours: typing.Optional[str] = option(
        None, "colour table of RGB masks (default: a class file beside the data)"
    )
    validation_split: typing.Optional[float] = option(
        None, "fraction of the training data held out (seeded) to pick best.keras"
    )
    val_dataset: typing.Optional[str] = option(None, "another source to validate on")
    num_examples: typing.Optional[int] = option(
        None, "size of the shapes training split", unit="images"
    )
    validation_examples: typing.Optional[int] = option(
        None, "size of the shapes validation and test splits", unit="images"
    )
    augment: typing.Optional[str] = option(
        None, "joint augmentation of training pairs: geometric (flips, rotation, scale and "
        "crop), colour (brightness, contrast, saturation, hue), all, none (default: geometric; "
        "none on the NumPy pipeline)", choices=AUGMENTATIONS,
    )  # fmt: skip
    ignore_index: int = option(255, "mask value that is not a class")
    on_bad: str = option(
        "raise", "raise: stop on any data fault, listing all; skip: train on the good pairs "
        "and list the others in skipped.csv", choices=ON_BAD,
    )  # fmt: skip
    data_dir: typing.Optional[str] = option(None, "TFDS data directory")
    pipeline: str = option(
        "auto", "input pipeline; auto: tf.data when TensorFlow is installed", choices=PIPELINES
    )
    synthetic: typing.Optional[str] = option(
        None, "folder of generated pairs (keras-segen synthesize) mixed into training"
    )
    synthetic_ratio: float = option(0.0, "share of training examples drawn from --synthetic")
    unlabeled: typing.Optional[str] = option(
        None, "semi-supervised training: a folder of unlabelled images (any sizes, checked "
        "before training), or 'streets' / 'shapes' for embedded images apart from the labelled "
        "ones; an epoch is the longer of the labelled and unlabelled passes",
    )  # fmt: skip
    unlabeled_examples: typing.Optional[int] = option(
        None, "unlabelled images used: the first N files of --unlabeled in sorted order "
        "(default: all), or N embedded draws (default: 2000)", unit="images",
    )  # fmt: skip


@dataclasses.dataclass
class SegmentationModel:
    """Which network a segmentation run trains."""

    model: str = option("unet", "registered segmentation model (see `keras-segen list`)")
    preset: typing.Optional[str] = option(
        None, "model preset (default: 'small' for fewer than 400 training images where the "
        "model has one; see `keras-segen info MODEL`)",
    )  # fmt: skip
    backbone: typing.Optional[str] = option(
        None, "encoder of the model (unet, fcn, deeplabv3_plus, fpn, pspnet, linknet, "
        "unet_plus_plus): a keras.applications CNN in lower case (resnet50, efficientnetv2b0, "
        "...) or the library's (see `keras-segen list --backbones`)",
    )  # fmt: skip
    weights: typing.Optional[str] = option(
        None, "encoder weights: imagenet (Keras' download and cache) or a weights file"
    )
    model_kwargs: dict = option({}, "extra builder arguments as JSON, e.g. '{\"filters\": 16}'")
    batchnorm_momentum: typing.Optional[float] = option(
        None, "BatchNorm moving-average momentum (default: from the number of training steps, "
        "at most 0.99, so that inference statistics settle on short runs)",
    )  # fmt: skip
    adversarial_weight: float = option(
        0.0, "lambda > 0: adversarial training with a label-map discriminator (Luc et al.)"
    )
    discriminator_filters: int = option(
        64, "width of the discriminator (--adversarial-weight, --semi-method adversarial)"
    )
    semi_method: str = option(
        "adversarial", "with --unlabeled: adversarial (Hung et al. 2018: a per-pixel "
        "discriminator's confidence picks the pseudo-labels) or self-training (the "
        "segmenter's own top softmax probability, no discriminator)", choices=SEMI_METHODS,
    )  # fmt: skip
    semi_adversarial_weight: float = option(
        0.01, "adversarial: lambda_adv, the adversarial loss on labelled images"
    )
    semi_unlabeled_adversarial_weight: float = option(
        0.001, "adversarial: lambda_semi_adv, the adversarial loss on unlabelled images"
    )
    semi_weight: float = option(0.1, "lambda_semi: the pseudo-label cross-entropy's weight")
    semi_threshold: typing.Optional[float] = option(
        None, "confidence above which a pixel's pseudo-label counts (default: 0.2 on the "
        "discriminator's sigmoid, as in the paper; 0.9 on the top softmax probability)",
    )  # fmt: skip
    semi_warmup: typing.Optional[int] = option(
        None, "steps before pseudo-labels count (default: a quarter of the run, the paper's "
        "5000 of 20000)", unit="steps",
    )  # fmt: skip
    semi_share: typing.Optional[float] = option(
        None, "instead of --semi-threshold: pseudo-labels on this share (0-1] of each "
        "unlabelled batch's pixels, those of highest confidence (with --semi-weight 1 "
        "--semi-perturbation colour, 0.7 gained 0.05 mIoU on streets at 50 labels)",
    )  # fmt: skip
    semi_perturbation: str = option(
        "none", "colour: the pseudo-label loss on a colour-jittered, noisy copy of the "
        "unlabelled images (FixMatch's weak/strong views); none: on the same prediction, as "
        "in the paper", choices=SEMI_PERTURBATIONS,
    )  # fmt: skip


@dataclasses.dataclass
class Training:
    """How long and how a run trains (both tasks)."""

    epochs: typing.Optional[int] = option(
        None, "total epochs (segmentation default: 10, or enough for 300 steps on small data "
        "up to 100 epochs; generation: the recipe's)", resume=True,
    )  # fmt: skip
    learning_rate: typing.Optional[float] = option(
        None, "Adam learning rate (default: 1e-3 for segmentation, the recipe's for generation)"
    )
    seed: int = option(0, "seed of weights, data order and augmentation")
    mixed_precision: bool = option(False, "train under mixed_float16")


@dataclasses.dataclass
class SegmentationTraining(Training):
    """How a segmentation run trains: also its schedule, warm-up and loss."""

    schedule: str = option(
        "cosine", "learning-rate schedule: cosine (to 0 at the last epoch) or constant",
        choices=SCHEDULES,
    )  # fmt: skip
    warmup: int = option(0, "linear learning-rate warm-up from 0", unit="epochs")
    loss: str = option("ce_dice", "segmentation loss", choices=LOSSES)
    freeze_epochs: int = option(
        0, "first train the decoder with the encoder frozen, then all layers at "
        "--fine-tune-factor times the learning rate", unit="epochs",
    )  # fmt: skip
    fine_tune_factor: float = option(
        0.1, "learning-rate factor once the encoder is unfrozen (after --freeze-epochs)"
    )
    jit_compile: bool = option(False, "compile the train step with XLA")


@dataclasses.dataclass
class GenerationTraining(Training):
    """How a generation run trains: also the discriminator's own rate (TTUR)."""

    d_learning_rate: typing.Optional[float] = option(
        None, "the discriminator's (critic's) Adam learning rate, for two time-scale updates "
        "(TTUR; default: the recipe's, else --learning-rate)",
    )  # fmt: skip


@dataclasses.dataclass
class GenerationData:
    """Which images a generation run reads."""

    dataset: typing.Optional[str] = option(
        None, "'shapes', 'streets' (embedded), a TFDS name or a folder (default: the recipe's)"
    )
    image_size: int = option(None, "side of the square images (default: the recipe's)", unit="px")
    batch_size: typing.Optional[int] = option(None, "global batch size (default: the recipe's)")
    channels: int = option(3, "image channels", choices=(1, 3))
    num_examples: typing.Optional[int] = option(
        None, "size of the shapes training split (default: the recipe's)", unit="images"
    )
    test_examples: typing.Optional[int] = option(
        None, "size of the shapes held-out split (end-of-run FID, pix2pix's metrics)",
        unit="images",
    )  # fmt: skip
    fid: str = option(
        "auto", "features of the FID printed at the end of the run: shapes (a small offline "
        "segmenter's, not comparable with published FID), inception (InceptionV3, ImageNet "
        "weights), none; auto: shapes on the embedded shapes data, else inception when its "
        "weights are in Keras' cache", choices=FID_FEATURES,
    )  # fmt: skip
    data_dir: typing.Optional[str] = option(None, "TFDS data directory")
    pipeline: str = option(
        "auto", "input pipeline; auto: tf.data when TensorFlow is installed", choices=PIPELINES
    )


@dataclasses.dataclass
class GenerationModel:
    """Which recipe a generation run trains, and its widths."""

    model: str = option(
        "dcgan", "generation recipe", choices=("keras_segen.trainers.recipes", "RECIPES")
    )
    latent_dim: typing.Optional[int] = option(None, "latent size (default: the recipe's)")
    filters: typing.Optional[int] = option(None, "generator width (default: the recipe's)")
    d_filters: typing.Optional[int] = option(
        None, "discriminator / encoder width (default: the recipe's)"
    )
    ema: typing.Optional[float] = option(
        None, "generator weight averaging decay, e.g. 0.999 (default: the recipe's; 0: off)"
    )
    num_samples: int = option(16, "images in each epoch's sample grid")


@dataclasses.dataclass
class Output:
    """Where a run writes and what."""

    out: str = option("runs/run", "run directory to create")
    tensorboard: bool = option(True, "write TensorBoard logs/ (needs TensorFlow)")


@dataclasses.dataclass
class Distribution:
    """How a run is spread over devices and machines."""

    strategy: typing.Optional[str] = option(
        None, "tf.distribute (mirrored, multiworker) or keras.distribution on JAX "
        "(data_parallel)", choices=STRATEGIES, resume=True,
    )  # fmt: skip
    worker_timeout: int = option(
        300, "multiworker: how long a worker waits for the others of TF_CONFIG before it "
        "fails naming those that do not answer", unit="s", resume=True,
    )  # fmt: skip
    coordinator: typing.Optional[str] = option(
        None, "data_parallel on JAX across processes: HOST:PORT of process 0 "
        "(jax.distributed; with --num-processes and --process-id)", resume=True,
    )  # fmt: skip
    num_processes: typing.Optional[int] = option(
        None, "with --coordinator: how many processes take part", resume=True
    )
    process_id: typing.Optional[int] = option(
        None, "with --coordinator: this process's index (0: the coordinator, which writes "
        "the run directory)", resume=True,
    )  # fmt: skip
    max_restarts: int = option(
        3, "multiworker, CLI: times a worker that lost a peer restarts itself with the same "
        "command (the run continues from its last epoch)", resume=True,
    )  # fmt: skip


SECTIONS = {
    "segmentation": {
        "data": SegmentationData,
        "model": SegmentationModel,
        "training": SegmentationTraining,
        "output": Output,
        "distribution": Distribution,
    },
    "generation": {
        "data": GenerationData,
        "model": GenerationModel,
        "training": GenerationTraining,
        "output": Output,
        "distribution": Distribution,
    },
}


def section_fields(task):
    """``{field name: (section name, dataclasses.Field)}`` of a task's configuration."""
    return {
        field.name: (section, field)
        for section, cls in SECTIONS[task].items()
        for field in dataclasses.fields(cls)
    }


@dataclasses.dataclass
class RunConfig:
    """A run's configuration: its task, its sections, and what it learned from its data.

    Example:
        >>> config = keras_segen.runs.RunConfig.from_kwargs(
        ...     "segmentation", model="unet", image_size=64, epochs=3)
        >>> config.model.model, config.data.image_size, config.training.epochs
        ('unet', 64, 3)
        >>> keras_segen.runs.RunConfig.from_dict(config.to_dict()) == config
        True
    """

    task: str
    data: typing.Any
    model: typing.Any
    training: typing.Any
    output: Output
    distribution: Distribution
    resolved: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_kwargs(cls, task, **kwargs):
        """A configuration from flat keyword arguments (``train``'s); unknown names raise."""
        fields = section_fields(task)
        unknown = sorted(set(kwargs) - set(fields))
        if unknown:
            raise TypeError(
                f"Unknown {task} run option(s) {', '.join(unknown)}; the options are "
                f"{', '.join(sorted(fields))}."
            )
        by_section = {section: {} for section in SECTIONS[task]}
        for name, value in kwargs.items():
            by_section[fields[name][0]][name] = _normalised(value)
        sections = {s: SECTIONS[task][s](**values) for s, values in by_section.items()}
        return cls(task, **sections)

    def to_dict(self):
        """The JSON form stored as ``config.json``."""
        stored = {"task": self.task}
        for section in SECTIONS[self.task]:
            stored[section] = dataclasses.asdict(getattr(self, section))
        stored["resolved"] = self.resolved
        return stored

    @classmethod
    def from_dict(cls, stored):
        """The configuration of a ``config.json`` written by ``to_dict``."""
        task = stored.get("task")
        if task not in SECTIONS or not all(s in stored for s in SECTIONS[task]):
            raise ValueError(
                "This config.json was written by an older keras_segen (before run "
                "configurations had sections); train the run again with this version."
            )
        flat = {}
        for section in SECTIONS[task]:
            flat.update(stored[section])
        config = cls.from_kwargs(task, **flat)
        config.resolved = dict(stored.get("resolved", {}))
        return config

    def flat(self):
        """Every field by its flat name, then what the run learned (``resolved``) on top."""
        flat = {"task": self.task}
        for section in SECTIONS[self.task]:
            flat.update(dataclasses.asdict(getattr(self, section)))
        return {**flat, **self.resolved}


def _normalised(value):
    """Paths as strings, tuples as lists: what JSON round-trips unchanged."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    return value
