"""``keras-segen`` commands that draw from generation runs: ``generate``, ``synthesize`` and
``edit-scene``."""

import argparse
import os


def _int_list(text):
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints; got {text!r}") from None


def _class_pair(text):
    try:
        old, new = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected OLD:NEW class ids; got {text!r}") from None
    return old, new


def _paste_spec(text):
    try:
        cls, offset = text.split(":")
        dy, dx = (int(part) for part in offset.split(","))
        return int(cls), dy, dx
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CLASS:DY,DX; got {text!r}") from None


def _command_generate(args):
    from keras_segen.runs import generate

    generate(args.run, num=args.num, out=args.out, labels=args.labels, seed=args.seed)
    print(f"wrote {args.out}")
    return 0


def add_generate_parser(commands):
    """``keras-segen generate``."""
    generate = commands.add_parser("generate", help="write a grid of generated images")
    generate.add_argument("run", help="generation run directory or .keras trainer")
    generate.add_argument("--num", type=int, default=64)
    generate.add_argument("--out", default="grid.png")
    generate.add_argument("--labels", type=_int_list, help="cGAN classes, e.g. 0,1,2,0")
    generate.add_argument("--seed", type=int, default=0)
    generate.set_defaults(handler=_command_generate)


def _command_synthesize(args):
    from keras_segen.pipelines import synthesize

    synthesize(
        args.generator,
        args.out,
        num=args.num,
        dataset=args.dataset,
        num_examples=args.num_examples,
        seed=args.seed,
        perturb=not args.no_perturb,
    )
    print(f"wrote {args.num} pairs to {args.out} (train with --synthetic {args.out})")
    return 0


def add_synthesize_parser(commands):
    """``keras-segen synthesize``."""
    synth = commands.add_parser(
        "synthesize", help="write generated (image, mask) pairs from a pix2pix run"
    )
    synth.add_argument("generator", help="label -> image pix2pix run directory or .keras file")
    synth.add_argument("--out", required=True, help="folder to write images/ and masks/ to")
    synth.add_argument("--num", type=int, default=500, help="number of pairs")
    synth.add_argument("--dataset", help="source of the label maps (default: the run's)")
    synth.add_argument("--num-examples", type=int, help="real label maps to start from")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--no-perturb", action="store_true", help="repaint the maps unchanged")
    synth.set_defaults(handler=_command_synthesize)


def _command_edit_scene(args):
    from keras_segen.pipelines import edit_scene_files

    edit_scene_files(
        args.segmenter,
        args.generator,
        out=args.out,
        image=args.image,
        dataset=args.dataset,
        index=args.index,
        replace=dict(args.replace or []),
        remove=args.remove or [],
        paste=args.paste or [],
        margin=args.margin,
    )
    print(f"wrote {args.out} and {os.path.splitext(args.out)[0]}_composite.png")
    return 0


def add_edit_scene_parser(commands):
    """``keras-segen edit-scene``."""
    scene = commands.add_parser(
        "edit-scene", help="segment an image, edit its label map, generate and composite"
    )
    scene.add_argument("--segmenter", required=True, help="segmentation run or .keras file")
    scene.add_argument("--generator", required=True, help="label -> image pix2pix run or .keras")
    scene.add_argument("--image", help="image file (default: a test image of --dataset)")
    scene.add_argument("--dataset", help="default: the generator run's dataset")
    scene.add_argument("--index", type=int, default=0, help="which test image of --dataset")
    scene.add_argument("--replace", type=_class_pair, action="append", help="OLD:NEW, repeatable")
    scene.add_argument("--remove", type=int, action="append", help="class to erase, repeatable")
    scene.add_argument(
        "--paste", type=_paste_spec, action="append", help="CLASS:DY,DX copies a region, repeatable"
    )
    scene.add_argument("--margin", type=int, default=2, help="soft seam width in pixels")
    scene.add_argument("--out", default="scene.png", help="figure of every stage")
    scene.set_defaults(handler=_command_edit_scene)
