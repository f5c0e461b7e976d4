"""``keras-segen list`` and ``keras-segen info``: the registered models and recipes."""

from keras_segen.cli.options import parse_size


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


def _list_backbones():
    from keras_segen.models.backbone_catalogue import read_catalogue

    rows = [("backbone", "family", "parameters", "P1-P5 channels", "preprocessing", "imagenet")]
    for name, entry in read_catalogue().items():
        widths = "/".join(str(entry["widths"].get(f"P{n}", "-")) for n in range(1, 6))
        rows.append((name, entry["family"], f"{entry['parameters']:,}", widths,
                     entry["preprocessing"], "yes" if entry["imagenet"] else "no"))  # fmt: skip
    _table(rows)
    print("\nkeras-segen train --model unet --backbone NAME [--weights imagenet|FILE] "
          "[--freeze-epochs N]; Python: keras_segen.encoder(NAME, ...)")  # fmt: skip
    return 0


def _command_list(args):
    from keras_segen.registry import list_models, model_entry
    from keras_segen.trainers.recipes import RECIPES

    if args.backbones:
        return _list_backbones()
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
    listing.add_argument(
        "--backbones", action="store_true",
        help="list the encoders (--backbone) with parameters and feature widths",
    )  # fmt: skip
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
