"""``keras-segen`` pieces about data, runs and inference: sizes, lazy choices, the data and
run options of the training commands, and the ``evaluate``, ``predict`` and ``check-data``
commands."""

import argparse
import importlib
import sys


class LazyChoices:
    """``choices`` for argparse read from ``module.attribute`` when first needed.

    Building the parser imports nothing heavy; the module is imported only when an option
    with these choices is parsed or its help is shown. Give such an option a ``metavar``
    (argparse lists the choices in the metavar otherwise) and ``%(choices)s`` in its help.
    """

    def __init__(self, module, attribute):
        self.module, self.attribute = module, attribute

    def _values(self):
        values = getattr(importlib.import_module(self.module), self.attribute)
        return tuple(value for value in values if value is not None)

    def __contains__(self, value):
        return value in self._values()

    def __iter__(self):
        return iter(self._values())


def parse_size(text):
    """``"HxW"``, ``"S"`` or ``"none"`` -> ``(H, W)``."""
    if text.lower() == "none":
        return None, None
    parts = text.lower().split("x")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes, default=0) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW, S or none; got {text!r}")
    return (sizes[0], sizes[-1])


def single_size(text):
    """``"HxW"`` or ``"S"`` -> ``S`` or ``(H, W)``; ``none`` is refused."""
    height, width = parse_size(text)
    if height is None:
        raise argparse.ArgumentTypeError("a fixed size is needed here")
    return height if height == width else (height, width)


def add_data_options(parser, splits=True):
    """Adds ``--layout``, ``--colours``, ``--skip-bad`` (and, for training, the split options)."""
    layouts = LazyChoices("keras_segen.data.layouts", "LAYOUTS")
    parser.add_argument(
        "--layout", choices=layouts, metavar="LAYOUT",
        help="dataset folder layout, detected by default: %(choices)s",
    )  # fmt: skip
    parser.add_argument(
        "--colours", metavar="FILE", help="colour table of RGB masks (classes.json, "
        "label_colors.txt, class_dict.csv; default: one beside the data)",
    )  # fmt: skip
    if splits:
        parser.add_argument(
            "--validation-split", type=float, metavar="F",
            help="hold out this fraction of the training data (seeded) for validation",
        )  # fmt: skip
        parser.add_argument("--val-dataset", help="another source to validate on")
        parser.add_argument(
            "--skip-bad", action="store_true",
            help="train on the good pairs; write the faulty ones to skipped.csv in the run",
        )  # fmt: skip


def add_run_options(parser, out):
    """Options every training command has: ``--out``, ``--seed``, ``--resume``, ..."""
    parser.add_argument("--out", default=out, help="run directory to create")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument(
        "--strategy", choices=("mirrored", "multiworker", "data_parallel"),
        help="tf.distribute (mirrored, multiworker) or keras.distribution on JAX (data_parallel)",
    )  # fmt: skip
    parser.add_argument(
        "--pipeline", choices=("auto", "tf.data", "numpy"), default="auto",
        help="input pipeline; auto: tf.data when TensorFlow is installed, else NumPy",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tensorboard", action="store_true", help="write no logs/ folder")
    parser.add_argument(
        "--resume", metavar="RUN_DIR",
        help="continue this run with its own settings (only --epochs, --strategy, --verbose apply)",
    )  # fmt: skip
    parser.add_argument("--verbose", type=int, default=2, help="Keras verbosity (0, 1, 2)")


def add_tiling_options(parser):
    """Adds ``--mode``, ``--overlap`` and ``--scale`` (``keras_segen.inference``)."""
    parser.add_argument(
        "--mode", choices=LazyChoices("keras_segen.inference", "MODES"), default="auto",
        metavar="MODE", help="%(choices)s; tile: sliding window over images larger than the "
        "model input; resize: one pass",
    )  # fmt: skip
    parser.add_argument("--overlap", type=float, default=0.5, help="tile overlap in [0, 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="resize factor before tiling")


def command_check_data(args):
    """``keras-segen check-data``: prints the report, writes the histogram, exit 1 on faults."""
    from keras_segen import viz
    from keras_segen.data import check_data

    report = check_data(args.source, args.layout, args.colours, args.num_classes, args.ignore_index)
    print(report.format(limit=args.limit))
    viz.plot_class_histogram(report.class_pixels, report.class_names, report.class_colours).savefig(
        args.out, dpi=100
    )
    print(f"class histogram: {args.out}")
    if not report.ok:
        print(f"keras-segen: {len(report.problems)} problem(s) in {args.source}", file=sys.stderr)
        return 1
    return 0


def add_check_data_parser(commands):
    """The ``check-data`` subcommand."""
    check = commands.add_parser(
        "check-data", help="decode every pair of a dataset folder and report every problem"
    )
    check.add_argument("source", help="dataset folder (generic, voc, cityscapes, ade20k, camvid)")
    add_data_options(check, splits=False)
    check.add_argument("--num-classes", type=int, help="classes of a generic folder")
    check.add_argument("--ignore-index", type=int, default=255)
    check.add_argument("--out", default="class_histogram.png", help="histogram PNG to write")
    check.add_argument("--limit", type=int, default=20, help="problems to list one by one")
    check.set_defaults(handler=command_check_data)


def command_evaluate(args):
    """``keras-segen evaluate``."""
    from keras_segen.runs import evaluate

    evaluate(
        args.run,
        dataset=args.dataset,
        split=args.split,
        image_size=args.image_size,
        batch_size=args.batch_size,
        out=args.out,
        full_resolution=args.full_resolution,
        mode=args.mode,
        overlap=args.overlap,
        scale=args.scale,
    )
    return 0


def command_predict(args):
    """``keras-segen predict``."""
    from keras_segen.runs import predict

    written = predict(
        args.run, args.inputs, args.out, args.image_size, args.mode, args.overlap, args.scale
    )
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def add_evaluate_parser(commands):
    """The ``evaluate`` subcommand."""
    evaluate = commands.add_parser("evaluate", help="per-class scores and a confusion matrix")
    evaluate.add_argument("run", help="run directory or .keras file")
    evaluate.add_argument("--dataset", help="dataset (default: the run's)")
    evaluate.add_argument(
        "--split", default="test",
        help="train, validation or test as the run defined them, or the dataset's split",
    )  # fmt: skip
    evaluate.add_argument("--image-size", type=single_size)
    evaluate.add_argument("--batch-size", type=int, default=16)
    evaluate.add_argument("--out", help="output folder (default: the run directory)")
    evaluate.add_argument(
        "--full-resolution", action="store_true",
        help="score each image at its own size against its mask as stored",
    )  # fmt: skip
    add_tiling_options(evaluate)
    evaluate.set_defaults(handler=command_evaluate)


def add_predict_parser(commands):
    """The ``predict`` subcommand."""
    predict = commands.add_parser("predict", help="write mask and overlay PNGs")
    predict.add_argument("run", help="run directory or .keras file")
    predict.add_argument("inputs", help="image file or folder")
    predict.add_argument("--out", required=True)
    predict.add_argument("--image-size", type=single_size)
    add_tiling_options(predict)
    predict.set_defaults(handler=command_predict)
