"""The README's own-data command on ~50 real photographs, before and after the small-data
defaults; writes benchmarks/results/small_data.md.

The fixture: 54 crops (160x160) of the photographs scikit-image ships (no download), with
4-class masks made from the picture itself: dark, middle and bright regions of the
smoothed brightness, and textured regions (high local contrast) as a fourth class. The
labels follow the photographs' content, so a model must learn texture and context rather
than a colour look-up. It is written as a generic dataset folder (images/, masks/,
classes.txt) and trained exactly as a user would:

    keras-segen train --dataset DATA --validation-split 0.1 --out RUN

"Before" passes the settings the command used to default to (the full-width U-Net, batch
16, 10 epochs, BatchNorm momentum 0.99, colour and geometric augmentation).

    python benchmarks/small_data.py [--keep DIR]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
    "retina", "camera", "coins", "moon", "clock", "grass", "gravel", "brick", "horse", "cell",
    "page", "text",
)  # fmt: skip
CLASSES = ("dark", "middle", "bright", "textured")
CROP = 160
BEFORE = [
    "--model-kwargs", '{"filters": 64}', "--batch-size", "16", "--epochs", "10",
    "--batchnorm-momentum", "0.99", "--augment", "all",
]  # fmt: skip
SETTINGS = {"before (old defaults)": BEFORE, "after (new defaults)": []}
# --ablations: the new defaults less one of their choices.
ABLATIONS = {
    "after, BatchNorm momentum 0.99": ["--batchnorm-momentum", "0.99"],
    "after, old model width (64 filters)": ["--model-kwargs", '{"filters": 64}'],
    "before, BatchNorm momentum from the steps": BEFORE[:-4] + ["--augment", "all"],
}


def photographs():
    """The scikit-image photographs as uint8 RGB arrays."""
    import skimage.data

    pictures = []
    for name in PHOTOS:
        image = np.asarray(getattr(skimage.data, name)())
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        pictures.append(image[..., :3].astype(np.uint8))
    return pictures


def labels_of(image):
    """4-class mask of a uint8 RGB crop: brightness bands of the smoothed grey image, and
    textured pixels (local standard deviation of grey > 0.08) as class 3."""
    from scipy import ndimage

    grey = image.astype(np.float32).mean(-1) / 255.0
    smooth = ndimage.gaussian_filter(grey, 3)
    labels = np.digitize(smooth, (0.33, 0.66)).astype(np.uint8)
    mean = ndimage.uniform_filter(grey, 9)
    std = np.sqrt(np.maximum(ndimage.uniform_filter(grey**2, 9) - mean**2, 0))
    labels[ndimage.gaussian_filter(std, 2) > 0.08] = 3
    return labels


def write_fixture(root, per_photo=3, seed=0):
    """``root/images``, ``root/masks`` and ``classes.txt``: ``per_photo`` crops per photo."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "masks"), exist_ok=True)
    count = 0
    for index, picture in enumerate(photographs()):
        height, width = picture.shape[:2]
        for crop in range(per_photo):
            side = int(rng.integers(CROP, min(height, width) + 1))
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
            patch = Image.fromarray(picture[top : top + side, left : left + side])
            patch = np.asarray(patch.resize((CROP, CROP), Image.BILINEAR))
            stem = f"photo{index:02d}_{crop}"
            Image.fromarray(patch).save(os.path.join(root, "images", f"{stem}.jpg"), quality=95)
            Image.fromarray(labels_of(patch)).save(os.path.join(root, "masks", f"{stem}.png"))
            count += 1
    with open(os.path.join(root, "classes.txt"), "w") as file:
        file.write("\n".join(CLASSES) + "\n")
    return count


def run(data, out, extra):
    """Runs the CLI command; returns its wall time and the last epoch of history.csv."""
    command = [
        sys.executable, "-m", "keras_segen.cli", "train", "--dataset", data,
        "--validation-split", "0.1", "--out", out, "--progress", "0", *extra,
    ]  # fmt: skip
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(result.stdout + result.stderr)
    with open(os.path.join(out, "history.csv")) as file:
        rows = list(csv.DictReader(file))
    said = [line for line in result.stdout.splitlines() if line.startswith("keras-segen:")]
    saved = [os.path.join(out, name) for name in os.listdir(out) if name.endswith(".keras")]
    size = sum(os.path.getsize(path) for path in saved)
    return seconds, rows, said, size


def best_epoch(out, rows):
    """Which epoch ``best.keras`` holds: the one state.json's best value came from, or the
    last when every epoch diverged (``RunCheckpoint.diverged``)."""
    import json

    with open(os.path.join(out, "state.json")) as file:
        best = json.load(file)["best"]
    if best is None:
        return f"{len(rows)} of {len(rows)} (every epoch diverged)"
    values = [float(row["val_mean_iou"]) for row in rows]
    return f"{int(np.argmin([abs(v - best) for v in values])) + 1} of {len(rows)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="folder for the fixture and runs (default: temporary)")
    parser.add_argument("--out", default="benchmarks/results/small_data.md")
    parser.add_argument("--ablations", action="store_true", help="also the ABLATIONS rows")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp()
    data = os.path.join(root, "data", "flat")
    count = write_fixture(data)
    lines = [
        "# Small data: the README's own-data command on real photographs",
        "",
        f"Fixture: {count} crops ({CROP}x{CROP}) of {len(PHOTOS)} scikit-image photographs, "
        "4 classes made from each picture (dark / middle / bright smoothed brightness, and "
        "textured regions); `benchmarks/small_data.py` writes it. Command: `keras-segen "
        "train --dataset DATA --validation-split 0.1 --out RUN` (2-core CPU, TensorFlow).",
        "",
        "| settings | train mIoU | val mIoU | gap | val loss by epoch | best.keras from | "
        "`.keras` MB | time s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    said_by_default = []
    settings = {**SETTINGS, **(ABLATIONS if args.ablations else {})}
    for index, (name, extra) in enumerate(settings.items()):
        out = os.path.join(root, "runs", f"run{index}")
        seconds, rows, said, size = run(data, out, extra)
        last = rows[-1]
        train_iou, val_iou = float(last["mean_iou"]), float(last["val_mean_iou"])
        losses = [float(row["val_loss"]) for row in rows]
        sampled = losses if len(losses) <= 6 else losses[:: len(losses) // 5]
        shown = ", ".join(f"{value:.3g}" for value in sampled)
        lines.append(
            f"| {name} | {train_iou:.3f} | {val_iou:.3f} | {train_iou - val_iou:+.3f} | "
            f"{shown} | {best_epoch(out, rows)} | {size / 1e6:.1f} | {seconds:.0f} |"
        )
        print(lines[-1], *said, sep="\n")
        said_by_default = said if not extra else said_by_default
    lines += ["", "What the run with the new defaults said at its start:", ""]
    lines += [f"    {line}" for line in said_by_default]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as file:
        file.write(text)
    print(text)


if __name__ == "__main__":
    main()
