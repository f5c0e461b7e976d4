"""``keras-segen`` commands about data and trained models: ``check-data``, ``evaluate`` and
``predict``."""

import sys

from keras_segen.cli.options import LazyChoices, add_output_options, single_size

TILING_MODES = ("auto", "tile", "resize")  # keras_segen.inference.MODES, without Keras


def add_data_options(parser):
    """Adds ``--layout``, ``--colours`` and ``--classes`` (reading a dataset folder)."""
    parser.add_argument(
        "--layout", choices=LazyChoices("keras_segen.data.layouts", "LAYOUTS"), metavar="LAYOUT",
        help="dataset folder layout, detected by default: %(choices)s",
    )  # fmt: skip
    parser.add_argument(
        "--colours", metavar="FILE", help="colour table of RGB masks (classes.json, "
        "label_colors.txt, class_dict.csv; default: one beside the data)",
    )  # fmt: skip
    parser.add_argument(
        "--classes", metavar="FILE", help="class file naming the classes of any layout "
        "(e.g. a VOC-layout copy of one's own data)",
    )  # fmt: skip


def add_tiling_options(parser):
    """Adds ``--mode``, ``--overlap`` and ``--scale`` (``keras_segen.inference``)."""
    parser.add_argument(
        "--mode", choices=TILING_MODES, default="auto",
        help="tile: sliding window over images larger than the "
        "model input; resize: one pass",
    )  # fmt: skip
    parser.add_argument("--overlap", type=float, default=0.5, help="tile overlap in [0, 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="resize factor before tiling")


def command_check_data(args):
    """``keras-segen check-data``: prints the report, writes the histogram, exit 1 on faults."""
    from keras_segen import viz
    from keras_segen.data import check_data

    report = check_data(
        args.source, args.layout, args.colours, args.num_classes, args.ignore_index,
        classes=args.classes,
    )  # fmt: skip
    print(report.format(limit=args.limit))
    if args.out:
        figure = viz.plot_class_histogram(
            report.class_pixels, report.class_names, report.class_colours
        )
        figure.savefig(args.out, dpi=100)
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
    add_data_options(check)
    check.add_argument("--num-classes", type=int, help="classes of a generic folder")
    check.add_argument("--ignore-index", type=int, default=255)
    check.add_argument("--out", metavar="PNG", help="write the class histogram to this file")
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
        verbose=args.verbose,
    )
    return 0


def command_predict(args):
    """``keras-segen predict``."""
    from keras_segen.runs import predict

    written = predict(
        args.run, args.inputs, args.out, args.image_size, args.mode, args.overlap, args.scale,
        verbose=args.verbose,
    )  # fmt: skip
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
    add_output_options(evaluate, progress=False)
    evaluate.set_defaults(handler=command_evaluate)


def add_predict_parser(commands):
    """The ``predict`` subcommand."""
    predict = commands.add_parser("predict", help="write mask and overlay PNGs")
    predict.add_argument("run", help="run directory or .keras file")
    predict.add_argument("inputs", help="image file or folder")
    predict.add_argument("--out", required=True)
    predict.add_argument("--image-size", type=single_size)
    add_tiling_options(predict)
    add_output_options(predict, progress=False)
    predict.set_defaults(handler=command_predict)
