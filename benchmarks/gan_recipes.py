"""Every generation recipe trained at its documented budget on a CPU: wall time and FID.

Usage:
    nice python benchmarks/gan_recipes.py [--recipes dcgan,vae] [--no-before] [--grids DIR]
    python benchmarks/gan_recipes.py --smoke    # one epoch on 64 images: checks the script

Each recipe is trained by ``keras_segen.train_generation`` with the defaults its
``GenerationRecipe`` record gives (what ``keras-segen train-gan --model NAME`` runs), then
1000 samples are scored against 1000 held-out images by
``keras_segen.metrics.sample_fid``. The features come from a small segmenter
trained on the shapes data (``shapes_extractor``; InceptionV3 weights cannot be downloaded
here), so the FIDs compare these runs with each other and are **not comparable with
published FID**. Reference rows: held-out vs training images of the same dataset (the
floor), uniform noise, and (unless ``--no-before``) the dcgan command as it ran before the
recipe defaults (builder widths 128/64, latent 128, the 1000-image split, 20 epochs).
Writes benchmarks/results/gan_recipes.md and a 16-sample grid per run into ``--grids``.
"""

import argparse
import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen.data import load_images, load_segmentation  # noqa: E402
from keras_segen.data.arrays import first_examples  # noqa: E402
from keras_segen.metrics import frechet_distance, sample_fid, shapes_extractor  # noqa: E402
from keras_segen.trainers import get_recipe, list_recipes  # noqa: E402
from keras_segen.trainers.recipes import Network, register_recipe  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "gan_recipes.md")
SETTINGS = ("dataset", "image_size", "epochs", "num_examples", "batch_size", "latent_dim",
            "filters", "d_filters", "learning_rate", "ema")  # fmt: skip
BEFORE = {
    "dataset": "shapes", "image_size": 32, "epochs": 20, "num_examples": 1000, "batch_size": 32,
    "latent_dim": 128, "filters": 128, "d_filters": 64, "learning_rate": 2e-4, "ema": None,
}  # fmt: skip


def register_old_dcgan():
    """The dcgan recipe as it was: the paper's transposed convolutions, Adam 2e-4."""
    old = dataclasses.replace(
        get_recipe("dcgan"),
        name="dcgan-before",
        description="the dcgan recipe before its measured defaults",
        networks=(
            Network("dcgan_generator", "filters"),
            Network("dcgan_discriminator", "d_filters"),
        ),
        **{**{key: None for key in SETTINGS}, "learning_rate": 2e-4},
    )
    return register_recipe(old).name


HELD_OUT = 1000


def recipe_settings(name):
    """The run settings the recipe's defaults give (its GenerationRecipe fields)."""
    recipe = get_recipe(name)
    return {key: getattr(recipe, key) for key in SETTINGS}


def held_out(name, settings, split="test", count=HELD_OUT):
    """``count`` examples of ``split`` in the form the recipe's trainer takes."""
    data, size = get_recipe(name).data, settings["image_size"]
    common = dict(split=split, image_size=size, batch_size=250, num_examples=count,
                  shuffle=False)  # fmt: skip
    if data == "label_maps":
        pairs = load_segmentation(settings["dataset"], **common)
        return first_examples(pairs.map(lambda image, mask: (mask, image * 2.0 - 1.0)), count)
    labels = data == "labelled_images"
    return first_examples(load_images(settings["dataset"], labels=labels, **common), count)


def train_and_score(name, settings, out, grid):
    """Trains recipe ``name`` into ``out``; returns its row: settings, steps, seconds, FID."""
    start = time.perf_counter()
    keras_segen.train_generation(model=name, out=out, verbose=0, tensorboard=False, **settings)
    seconds = time.perf_counter() - start
    trainer = keras.models.load_model(os.path.join(out, "last.keras"))
    score = sample_fid(trainer, held_out(name, settings), num_images=HELD_OUT, seed=1)
    keras_segen.generate(out, num=16, out=grid, seed=3)
    steps = settings["epochs"] * -(-settings["num_examples"] // settings["batch_size"])
    load = os.getloadavg()[1]  # the shared CPU's 5-minute load average as the run ended
    return {"settings": settings, "steps": steps, "seconds": seconds, "load": load,
            "fid": score["fid"]}  # fmt: skip


def references(datasets):
    """FID of held-out vs training images, and of uniform noise, per (dataset, image size)."""
    extract = shapes_extractor()
    rows = {}
    for dataset, size in datasets:
        settings = {"image_size": size, "dataset": dataset}
        test = extract(held_out("dcgan", settings))
        noise = np.random.default_rng(0).uniform(-1, 1, (HELD_OUT, size, size, 3))
        rows[dataset, size] = {
            "floor": frechet_distance(test, extract(held_out("dcgan", settings, "train"))),
            "noise": frechet_distance(test, extract(noise)),
        }
    return rows


def table(rows, reference):
    """The Markdown lines of the results."""
    header = "| run | FID | floor | train time (s) | CPU load | steps | " + " | ".join(SETTINGS)
    lines = [header + " |", "|" + "---|" * (6 + len(SETTINGS))]
    for name, row in rows.items():
        settings = row["settings"]
        values = " | ".join(
            "-" if settings[key] is None else str(settings[key]) for key in SETTINGS
        )
        floor = reference[settings["dataset"], settings["image_size"]]["floor"]
        lines.append(
            f"| {name} | {row['fid']:.3f} | {floor:.3f} | "
            f"{row['seconds']:.0f} | {row['load']:.1f} | {row['steps']} | {values} |"
        )
    return lines


def main():
    """Trains every recipe (and the old dcgan command), prints and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=",".join(list_recipes()))
    parser.add_argument("--no-before", action="store_true", help="skip the old dcgan command")
    parser.add_argument("--grids", help="folder for the sample grids (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="1 epoch, 64 images; no results")
    args = parser.parse_args()
    smoke = {"epochs": 1, "num_examples": 64} if args.smoke else {}
    shapes_extractor()  # trained (about 40 s) or loaded before any run is timed
    rows = {}
    with tempfile.TemporaryDirectory() as root:
        grids = args.grids or root
        os.makedirs(grids, exist_ok=True)
        if not args.no_before:
            before = {**BEFORE, **smoke}
            rows["dcgan before (old defaults)"] = train_and_score(
                register_old_dcgan(), before, f"{root}/before", f"{grids}/dcgan_before.png"
            )
        for name in args.recipes.split(","):
            settings = {**recipe_settings(name), **smoke}
            rows[name] = train_and_score(name, settings, f"{root}/{name}", f"{grids}/{name}.png")
            print(name, rows[name], flush=True)
    reference = references(sorted({(r["settings"]["dataset"], r["settings"]["image_size"])
                                   for r in rows.values()}))  # fmt: skip
    lines = [
        "# Generation recipes at their documented budget (shapes, CPU)",
        "",
        "`keras-segen train-gan --model NAME` with the recipe's defaults, timed on a shared "
        f"{os.cpu_count()}-core CPU (wall time of the run: training, a checkpoint and a "
        f"sample grid every epoch). FID: {HELD_OUT} samples vs {HELD_OUT} held-out images on "
        f"the features of `{shapes_extractor().name}` "
        "(`keras_segen.metrics.sample_fid`): **not comparable with published "
        "(InceptionV3) FID**; lower is better. 'floor' is held-out vs training real images "
        "of the same dataset and size. 'CPU load': the 5-minute load average as the run "
        "ended; other jobs shared the CPU, and times grow with it. Seeds are fixed: FIDs "
        "repeat exactly on the same machine.",
        "",
        *table(rows, reference),
        "",
        "Reference points: "
        + "; ".join(
            f"{name} {size}x{size}: real floor {r['floor']:.3f}, uniform noise {r['noise']:.3f}"
            for (name, size), r in reference.items()
        )
        + ".",  # fmt: skip
    ]
    publish(lines, os.devnull if args.smoke else RESULTS)


if __name__ == "__main__":
    main()
