"""The ``keras-segen`` command line: a thin layer over the Python API."""

import argparse
import os
import sys


def _parse_size(text):
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


def _command_list(args):
    import keras_segen

    for name in keras_segen.list_models(args.task):
        entry = keras_segen.model_entry(name)
        print(f"{name:16s} {entry.task:13s} {entry.summary}")
    return 0


def _command_info(args):
    import keras_segen

    entry = keras_segen.model_entry(args.model)
    print(f"{entry.name} ({entry.task})")
    print(f"  {entry.summary}")
    print(f"  paper: {entry.paper}")
    print("  arguments:")
    for key, value in entry.defaults.items():
        print(f"    {key} = {value!r}")
    if args.input_size or args.num_classes:
        kwargs = {}
        if args.num_classes:
            kwargs["num_classes"] = args.num_classes
        if args.input_size:
            channels = entry.defaults.get("input_shape", (None, None, 3))[-1]
            kwargs["input_shape"] = (*args.input_size, channels)
        model = entry.builder(**kwargs)
        print(f"  built with {kwargs}:")
        print(f"    parameters: {model.count_params():,}")
        print(f"    input:  {tuple(model.input.shape)}")
        print(f"    output: {tuple(model.output.shape)}")
    return 0


def build_parser():
    """The argument parser of ``keras-segen``."""
    from keras_segen import __version__
    from keras_segen.registry import TASKS

    parser = argparse.ArgumentParser(
        prog="keras-segen", description="Segmentation and generation models for Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"keras-segen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the registered models")
    listing.add_argument("--task", choices=TASKS, help="only models of this task")
    listing.set_defaults(run=_command_list)

    info = commands.add_parser("info", help="describe a model; with --input-size, build it")
    info.add_argument("model", help="registered model name (see `keras-segen list`)")
    info.add_argument("--input-size", type=_parse_size, help="HxW to build the model at")
    info.add_argument("--num-classes", type=int, help="number of classes to build with")
    info.set_defaults(run=_command_info)
    return parser


def main(argv=None):
    """Entry point of the ``keras-segen`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        print(f"keras-segen: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
