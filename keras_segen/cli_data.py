"""``keras-segen`` pieces about datasets: the ``check-data`` command and the data options
shared by ``train`` and ``evaluate``."""

import sys


def add_data_options(parser, splits=True):
    """Adds ``--layout``, ``--colours``, ``--skip-bad`` (and, for training, the split options)."""
    from keras_segen.data import LAYOUTS

    parser.add_argument("--layout", choices=LAYOUTS, help="dataset folder layout (detected)")
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


def add_tiling_options(parser):
    """Adds ``--mode``, ``--overlap`` and ``--scale`` (``keras_segen.inference``)."""
    from keras_segen.inference import MODES

    parser.add_argument(
        "--mode", choices=MODES, default="auto",
        help="tile: sliding window over images larger than the model input; resize: one pass",
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
