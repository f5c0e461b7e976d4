"""The ``keras-segen`` command line: one small parser per command over the Python API.

Building the parser imports neither Keras nor TensorFlow, so ``--version``, ``--help``,
``list`` and ``info NAME`` answer at once; commands that train or convert import them
after quietening TensorFlow's and absl's logging (``keras-segen --verbose`` shows it).
"""

import argparse
import itertools
import os
import sys

from keras_segen.cli_data import (
    LazyChoices,
    add_check_data_parser,
    add_data_options,
    add_evaluate_parser,
    add_predict_parser,
    add_run_options,
    parse_size,
    single_size,
)
from keras_segen.cli_generation import (
    add_edit_scene_parser,
    add_generate_parser,
    add_synthesize_parser,
    add_train_gan_parser,
)


def _json_object(text):
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object such as '{\"filters\": 16}'")
    return value


def short_paper(paper):
    """``"Ronneberger, Fischer & Brox, U-Net: ..., MICCAI 2015"`` -> ``"Ronneberger 2015"``."""
    first_author = paper.split(",")[0].split(" & ")[0].split(" et al.")[0]
    year = paper.rstrip(". ")[-4:]
    return f"{first_author} {year}" if year.isdigit() else first_author


def _table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells).rstrip())


def _command_list(args):
    from keras_segen.registry import list_models, model_entry
    from keras_segen.trainers.recipes import RECIPES

    rows = [("name", "task", "presets", "paper")]
    for name in list_models(args.task):
        entry = model_entry(name)
        rows.append((name, entry.task, ",".join(entry.presets) or "-", short_paper(entry.paper)))
    _table(rows)
    if args.task in (None, "generation"):
        print("\ngeneration recipes (keras-segen train-gan --model NAME):")
        _table([("name", "description")] + [(r.name, r.description) for r in RECIPES.values()])
    return 0


def add_list_parser(commands):
    """``keras-segen list``."""
    from keras_segen.registry import TASKS

    listing = commands.add_parser("list", help="list the registered models and recipes")
    listing.add_argument("--task", choices=TASKS, help="only models of this task")
    listing.set_defaults(handler=_command_list)


def _command_info(args):
    from keras_segen.registry import model_entry

    entry = model_entry(args.model)
    print(f"{entry.name} ({entry.task})")
    print(f"  {entry.summary}")
    print(f"  paper: {entry.paper}")
    print("  presets:" if entry.presets else "  presets: none")
    width = max((len(name) for name in entry.presets), default=0)
    for preset in entry.presets.values():
        print(f"    {preset.name.ljust(width)}  {preset.description}")
    print("  arguments:")
    for key, value in entry.defaults.items():
        print(f"    {key} = {value!r}")
    if not (args.preset or args.input_size or args.num_classes):
        return 0
    kwargs = entry.config(args.preset)
    if args.num_classes:
        kwargs["num_classes"] = args.num_classes
    if args.input_size:
        shape = kwargs.get("input_shape", entry.defaults.get("input_shape", (None, None, 3)))
        kwargs["input_shape"] = (*args.input_size, shape[-1])
    model = entry.builder(**kwargs)
    print(f"  built with {kwargs}:")
    print(f"    parameters: {model.count_params():,}")
    print(f"    input:  {tuple(model.input.shape)}")
    print(f"    output: {tuple(model.output.shape)}")
    return 0


def add_info_parser(commands):
    """``keras-segen info NAME``."""
    info = commands.add_parser(
        "info", help="describe a model and its presets; with --preset or --input-size, build it"
    )
    info.add_argument("model", help="registered model name (see `keras-segen list`)")
    info.add_argument("--preset", help="build this preset (see the presets listed)")
    info.add_argument("--input-size", type=parse_size, help="HxW to build the model at")
    info.add_argument("--num-classes", type=int, help="number of classes to build with")
    info.set_defaults(handler=_command_info)


def _command_train(args):
    from keras_segen.runs import resume, train

    if args.resume:
        resume(args.resume, epochs=args.epochs, strategy=args.strategy, verbose=args.verbose)
        return 0
    train(
        model=args.model,
        dataset=args.dataset,
        epochs=args.epochs or 10,
        batch_size=args.batch_size,
        image_size=args.image_size,
        out=args.out,
        num_classes=args.num_classes,
        preset=args.preset,
        model_kwargs=args.model_kwargs,
        learning_rate=args.learning_rate,
        loss=args.loss,
        augment=not args.no_augment,
        num_examples=args.num_examples,
        mixed_precision=args.mixed_precision,
        jit_compile=args.jit_compile,
        strategy=args.strategy,
        seed=args.seed,
        adversarial_weight=args.adversarial_weight,
        discriminator_filters=args.discriminator_filters,
        synthetic=args.synthetic,
        synthetic_ratio=args.synthetic_ratio,
        validation_split=args.validation_split,
        val_dataset=args.val_dataset,
        layout=args.layout,
        colours=args.colours,
        on_bad="skip" if args.skip_bad else "raise",
        tensorboard=not args.no_tensorboard,
        pipeline=args.pipeline,
        verbose=args.verbose,
    )
    print(f"run directory: {args.out}")
    return 0


def add_train_parser(commands):
    """``keras-segen train``."""
    train = commands.add_parser("train", help="train a segmentation model into a run directory")
    train.add_argument("--model", default="unet", help="registered model name")
    train.add_argument("--dataset", default="shapes", help="shapes, a TFDS name or a folder")
    add_data_options(train)
    train.add_argument("--epochs", type=int, help="total epochs (default 10)")
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--image-size", type=single_size, default=128, help="S or HxW")
    train.add_argument("--num-classes", type=int)
    train.add_argument("--preset", help="model preset to start from (see `keras-segen info`)")
    train.add_argument("--model-kwargs", type=_json_object, help="JSON, e.g. '{\"filters\": 16}'")
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument(
        "--loss", choices=LazyChoices("keras_segen.losses", "SEGMENTATION_LOSSES"),
        default="ce_dice", metavar="LOSS", help="%(choices)s (default: %(default)s)",
    )  # fmt: skip
    train.add_argument("--no-augment", action="store_true", help="switch augmentation off")
    train.add_argument("--num-examples", type=int, help="size of the shapes training split")
    train.add_argument("--jit-compile", action="store_true")
    train.add_argument(
        "--adversarial-weight", type=float, default=0.0,
        help="lambda > 0: adversarial training with a label-map discriminator (Luc et al.)",
    )  # fmt: skip
    train.add_argument("--discriminator-filters", type=int, default=64)
    train.add_argument("--synthetic", help="folder of generated pairs (keras-segen synthesize)")
    train.add_argument(
        "--synthetic-ratio", type=float, default=0.0, help="share of generated training pairs"
    )
    add_run_options(train, "runs/run")
    train.set_defaults(handler=_command_train)


def _command_export(args):
    from keras_segen.runs import export_run

    report = export_run(
        args.model_or_run,
        format=args.format,
        quantize=args.quantize,
        calibration=args.calibration,
        input_size=args.input_size,
        out=args.out,
    )
    parity = ", ".join(
        f"{key} {report[key]:.4g}"
        for key in ("max_abs_diff", "argmax_agreement", "miou_vs_keras", "psnr_db")
        if key in report
    )
    print(f"wrote {report['artifact']} ({report['size_bytes'] / 1e6:.2f} MB, {report['runtime']})")
    print(f"parity: {parity}")
    latency = report["latency_ms"]
    print(
        f"latency per image: Keras (eager) {latency['keras_eager']:.2f} ms, artifact "
        f"{latency['artifact']:.2f} ms ({report['speedup']:.1f}x); report {report['artifact']}.json"
    )
    if "delegation" in report:
        delegation = report["delegation"]
        xnnpack = delegation["xnnpack"]
        on_cpu = ", ".join(f"{op} x{n}" for op, n in xnnpack["undelegated_ops"].items())
        print(
            f"XNNPACK: {xnnpack['partitions']} partition(s), "
            f"{xnnpack['delegated_share']:.0%} of ops delegated"
            + (f"; TFLite kernels run {on_cpu}" if on_cpu else "")
        )
        warnings = delegation["gpu_warnings"]
        print(f"GPU delegate: {'compatible' if not warnings else f'{len(warnings)} warning(s)'}")
    return 0


def add_export_parser(commands):
    """``keras-segen export``."""
    exporter = commands.add_parser("export", help="export, verify and time a model")
    exporter.add_argument("model_or_run", help="registered name, .keras file or run directory")
    exporter.add_argument(
        "--format", choices=LazyChoices("keras_segen.runs.export", "FORMATS"),
        default="tflite", metavar="FORMAT", help="%(choices)s (default: %(default)s)",
    )  # fmt: skip
    exporter.add_argument(
        "--quantize", choices=LazyChoices("keras_segen.export.convert", "QUANTIZATIONS"),
        metavar="MODE", help="TFLite quantization: %(choices)s",
    )  # fmt: skip
    exporter.add_argument("--calibration", help="dataset of the calibration/parity samples")
    exporter.add_argument("--input-size", type=single_size, help="S or HxW")
    exporter.add_argument("--out", help="artifact path")
    exporter.set_defaults(handler=_command_export)


def _command_quickstart(args):
    from keras_segen.runs import quickstart

    overrides = {
        key: value
        for key, value in (
            ("epochs", args.epochs),
            ("num_examples", args.num_examples),
            ("image_size", args.image_size),
        )
        if value is not None
    }
    quickstart(args.out, verbose=args.verbose, **overrides)
    return 0


def add_quickstart_parser(commands):
    """``keras-segen quickstart``."""
    quick = commands.add_parser("quickstart", help="train, evaluate and plot a U-Net on shapes")
    quick.add_argument("--out", default="runs/quickstart")
    quick.add_argument("--epochs", type=int, help="override the number of epochs")
    quick.add_argument("--num-examples", type=int, help="override the training set size")
    quick.add_argument("--image-size", type=single_size, help="override the image size")
    quick.add_argument("--verbose", type=int, default=2, help="Keras verbosity (0, 1, 2)")
    quick.set_defaults(handler=_command_quickstart)


COMMAND_PARSERS = (
    add_list_parser,
    add_info_parser,
    add_train_parser,
    add_train_gan_parser,
    add_generate_parser,
    add_synthesize_parser,
    add_edit_scene_parser,
    add_export_parser,
    add_evaluate_parser,
    add_predict_parser,
    add_check_data_parser,
    add_quickstart_parser,
)


def build_parser():
    """The argument parser of ``keras-segen``."""
    from keras_segen.version import __version__

    parser = argparse.ArgumentParser(
        prog="keras-segen", description="Segmentation and generation models for Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"keras-segen {__version__}")
    parser.add_argument(
        "-v", "--verbose", dest="show_logs", action="store_true",
        help="show TensorFlow's and absl's log messages (quiet by default)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=BACKENDS,
        help="Keras backend (default: KERAS_BACKEND or Keras' own setting)",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parser in COMMAND_PARSERS:
        add_parser(commands)
    return parser


BACKENDS = ("tensorflow", "jax", "torch")


def use_backend(name):
    """Selects the Keras backend; it must come before Keras is imported."""
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != name:
        raise ValueError(
            f"--backend {name}: Keras is already imported with the {keras.backend.backend()} "
            "backend in this process; set KERAS_BACKEND before starting it."
        )
    os.environ["KERAS_BACKEND"] = name


def quiet_logs():
    """Silences TensorFlow's C++ and Python logging and absl before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def main(argv=None):
    """Entry point of the ``keras-segen`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    leading_options = itertools.takewhile(lambda arg: arg.startswith("-"), argv)
    if not {"-v", "--verbose"} & set(leading_options):
        quiet_logs()  # before parsing: a command's --help may import TensorFlow
    args = build_parser().parse_args(argv)
    try:
        if args.backend:
            use_backend(args.backend)
        return args.handler(args)
    except ValueError as error:
        print(f"keras-segen: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
