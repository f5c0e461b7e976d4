"""The ``keras-segen`` command line: one module per command group, thin over the Python API.

Building the parser imports neither Keras nor TensorFlow, so ``--version``, every
``--help``, ``list`` and ``info NAME`` answer at once; the training commands' options are
generated from the run configuration (``keras_segen.runs.config``). Commands print no
TensorFlow log line unless ``--verbose 2`` (``keras_segen.set_verbosity``).
"""

import argparse
import os
import sys

from keras_segen.cli.data import add_check_data_parser, add_evaluate_parser, add_predict_parser
from keras_segen.cli.export import add_export_parser
from keras_segen.cli.generation import (
    add_edit_scene_parser,
    add_generate_parser,
    add_synthesize_parser,
)
from keras_segen.cli.models import add_info_parser, add_list_parser
from keras_segen.cli.training import (
    add_quickstart_parser,
    add_train_gan_parser,
    add_train_parser,
)

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
BACKENDS = ("tensorflow", "jax", "torch")


def build_parser():
    """The argument parser of ``keras-segen``."""
    from keras_segen.version import __version__

    parser = argparse.ArgumentParser(
        prog="keras-segen", description="Segmentation and generation models for Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"keras-segen {__version__}")
    parser.add_argument(
        "-v", "--show-logs", dest="show_logs", action="store_true",
        help="show TensorFlow's and absl's log lines (as a command's --verbose 2)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=BACKENDS,
        help="Keras backend (default: KERAS_BACKEND or Keras' own setting)",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parser in COMMAND_PARSERS:
        add_parser(commands)
    return parser


def use_backend(name):
    """Selects the Keras backend; it must come before Keras is imported."""
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != name:
        raise ValueError(
            f"--backend {name}: Keras is already imported with the {keras.backend.backend()} "
            "backend in this process; set KERAS_BACKEND before starting it."
        )
    os.environ["KERAS_BACKEND"] = name


def main(argv=None):
    """Entry point of the ``keras-segen`` console script."""
    from keras_segen.verbosity import set_verbosity

    command_line = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(command_line)
    args.command_line = command_line  # what a restarted worker runs again
    level = getattr(args, "verbose", 1)
    set_verbosity(2 if args.show_logs else level)
    try:
        if args.backend:
            use_backend(args.backend)
        return args.handler(args)
    except ValueError as error:
        print(f"keras-segen: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
