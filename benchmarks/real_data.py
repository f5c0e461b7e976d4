"""Real-size data: check-pass speed, pipeline throughput, tiled prediction and exact counts.

Writes a Cityscapes-layout folder of 2048x1024 frames (random pictures, labelIds bands)
and measures, on this machine:

- ``check_data``: full decode of every image and mask, pairs per second;
- ``load_segmentation`` at 512x1024: examples per second through the tf.data pipeline;
- sliding-window prediction of one 2048x1024 frame through a 256x256 U-Net (overlap 0.5);
- the confusion matrix of a batch of nine 2048x1024 frames (18.9 M pixels in one cell,
  above float32's 2^24): exact, and what float32 counting gives.

    python benchmarks/real_data.py [--frames 24] [--out benchmarks/results/real_data.md]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import keras  # noqa: E402

import keras_segen  # noqa: E402
from benchmarks.results_file import publish  # noqa: E402

HEIGHT, WIDTH = 1024, 2048


def write_cityscapes(root, frames):
    """``frames`` train frames in the Cityscapes layout (PNG, as distributed)."""
    rng = np.random.default_rng(0)
    images, masks = root / "leftImg8bit" / "train" / "city", root / "gtFine" / "train" / "city"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    columns = np.arange(WIDTH) * 4 // WIDTH
    ids = np.broadcast_to(np.array([7, 26, 0, 24], np.uint8)[columns], (HEIGHT, WIDTH))
    for index in range(frames):
        stem = f"city_{index:06d}_000019"
        picture = rng.integers(0, 256, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
        Image.fromarray(picture).resize((WIDTH, HEIGHT)).save(images / f"{stem}_leftImg8bit.png")
        Image.fromarray(ids).save(masks / f"{stem}_gtFine_labelIds.png")


def timed(function, repeats=1):
    start = time.perf_counter()
    for _ in range(repeats):
        result = function()
    return result, (time.perf_counter() - start) / repeats


def main(argv=None):
    """Runs the measurements and writes the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--out", default="benchmarks/results/real_data.md")
    args = parser.parse_args(argv)
    lines = [
        "# Real-size data (Cityscapes layout, 2048x1024 frames)",
        "",
        f"Measured by `benchmarks/real_data.py --frames {args.frames}` on "
        f"{os.cpu_count()} CPU cores, Keras backend {keras.backend.backend()}.",
        "",
        "| measurement | value |",
        "|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        write_cityscapes(root, args.frames)
        report, seconds = timed(lambda: keras_segen.data.check_data(root, progress=False))
        assert report.ok, report.format()
        rate = f"{args.frames / seconds:.2f} ({seconds:.1f} s for {args.frames})"
        lines.append(f"| check_data: pairs decoded and checked per second | {rate} |")
        dataset = keras_segen.data.load_segmentation(
            str(root), "train", (512, 1024), batch_size=4, cache=False, shuffle=False,
            progress=False,
        )  # fmt: skip
        _, seconds = timed(lambda: sum(int(images.shape[0]) for images, _ in dataset))
        lines.append(f"| load_segmentation at 512x1024: examples per second | "
                     f"{args.frames / seconds:.2f} |")  # fmt: skip
    model = keras_segen.unet((256, 256, 3), 19, filters=16, depth=4)
    frame = np.random.default_rng(1).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    keras_segen.inference.segment_image(model, frame[:256, :512], (256, 256))  # warm-up
    logits, seconds = timed(lambda: keras_segen.inference.segment_image(model, frame, (256, 256)))
    tiles = len(keras_segen.inference.tile_starts(HEIGHT, 256, 128)) * len(
        keras_segen.inference.tile_starts(WIDTH, 256, 128)
    )
    lines.append(f"| tiled prediction of one 2048x1024 frame, 256x256 U-Net (16 filters), "
                 f"{tiles} tiles | {seconds:.2f} s ({tiles / seconds:.1f} tiles/s) |")  # fmt: skip
    assert logits.shape == (HEIGHT, WIDTH, 19)
    masks = np.zeros((9, HEIGHT, WIDTH), np.int32)
    counts, seconds = timed(
        lambda: keras.ops.convert_to_numpy(
            keras_segen.metrics.confusion_counts(masks, masks, num_classes=2)[0]
        )
    )
    exact = 9 * HEIGHT * WIDTH
    as_float32 = keras.ops.convert_to_numpy(
        keras.ops.segment_sum(np.ones(exact, np.float32), np.zeros(exact, np.int32), 1)
    )[0]
    lines.append(f"| confusion counts of 9 frames (one cell: {exact:,} pixels) | "
                 f"{int(counts[0, 0]):,} exact in {seconds:.2f} s; float32 counting gives "
                 f"{int(as_float32):,} |")  # fmt: skip
    publish(lines, args.out)


if __name__ == "__main__":
    main()
