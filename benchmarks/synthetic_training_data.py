"""A segmenter trained on a small labelled subset, with and without GAN-made pairs.

Usage:
    python benchmarks/synthetic_training_data.py [--seeds 3] [--labelled 100]

Data: ``shapes_coloured`` at 64x64 (every class has a fixed colour, so a label map
determines its image and label -> image synthesis is well-posed; on plain ``shapes``
colours are random and a pix2pix generator can only paint the mean colour). The
labelled subset is ``--labelled`` images (100 = 5% of a 2000-image training set). Per seed:

1. baseline: ``train`` a U-Net on the labelled subset;
2. pix2pix (label map -> image) trained on the same subset (``train_generation``), then
   ``pipelines.synthesize`` paints ``--synthetic`` perturbed copies of the subset's label
   maps, and the U-Net is trained on real + generated pairs mixed at ``--ratio``.

Both arms take (up to one epoch's rounding) the same number of gradient steps (the
baseline runs proportionally more epochs) and are scored on the same 200 held-out real
test images. Writes benchmarks/results/synthetic_training_data.md (or ``--out``).
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import paired_table, publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen.data import mixed_length  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "synthetic_training_data.md")
DATASET = "shapes_coloured"


def segmenter(root, name, seed, epochs, args, **extra):
    """Held-out mean IoU of one U-Net run."""
    report = keras_segen.train(
        "unet",
        DATASET,
        epochs=epochs,
        batch_size=8,
        image_size=64,
        out=os.path.join(root, f"{name}_seed{seed}"),
        preset="small",
        learning_rate=2e-3,
        loss="ce",
        augment=False,
        num_examples=args.labelled,
        validation_examples=200,
        seed=seed,
        verbose=0,
        **extra,
    )
    return report["mean_iou"]


def batches(examples, batch_size=8):
    """Steps in one epoch of ``examples`` (the last batch may be partial)."""
    return -(-examples // batch_size)


def main():
    """Runs both arms for every seed; prints and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--labelled", type=int, default=100)
    parser.add_argument("--synthetic", type=int, default=400)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=15, help="epochs of the mixed arm")
    parser.add_argument("--pix2pix-epochs", type=int, default=40)
    parser.add_argument("--out", default=RESULTS, help="Markdown file to write")
    args = parser.parse_args()
    mixed_steps = args.epochs * batches(mixed_length(args.labelled, args.ratio))
    baseline_epochs = round(mixed_steps / batches(args.labelled))
    baseline_steps = baseline_epochs * batches(args.labelled)
    rows, seconds = [], {"baseline": 0.0, "pix2pix": 0.0, "mixed": 0.0}
    with tempfile.TemporaryDirectory() as root:
        for seed in range(args.seeds):
            start = time.perf_counter()
            baseline = segmenter(root, "real", seed, baseline_epochs, args)
            seconds["baseline"] += time.perf_counter() - start

            start = time.perf_counter()
            generator_run = os.path.join(root, f"pix2pix_seed{seed}")
            keras_segen.train_generation(
                "pix2pix", DATASET, epochs=args.pix2pix_epochs, batch_size=8, image_size=64,
                out=generator_run, filters=16, d_filters=16, num_examples=args.labelled,
                test_examples=100, seed=seed, verbose=0,
            )  # fmt: skip
            folder = keras_segen.pipelines.synthesize(
                generator_run, os.path.join(root, f"synthetic_seed{seed}"), args.synthetic,
                num_examples=args.labelled, seed=seed,
            )  # fmt: skip
            seconds["pix2pix"] += time.perf_counter() - start

            start = time.perf_counter()
            mixed = segmenter(
                root, "mixed", seed, args.epochs, args, synthetic=folder, synthetic_ratio=args.ratio
            )
            seconds["mixed"] += time.perf_counter() - start
            rows.append((seed, baseline, mixed))
            print(f"seed {seed}: real only {baseline:.4f}, real + generated {mixed:.4f}")
    lines = [
        "# Small labelled subset, with and without GAN-made pairs (held-out real test images)",
        "",
        f"{DATASET} 64x64; {args.labelled} labelled training images "
        f"({args.labelled / 2000:.0%} of 2000); U-Net "
        f"(filters 8, depth 4), batch 8, Adam 2e-3 cosine, CE; {baseline_epochs} epochs "
        f"({baseline_steps} steps) on real only, {args.epochs} epochs ({mixed_steps} steps) "
        "on the mix. "
        f"Generated: pix2pix (filters 16, {args.pix2pix_epochs} epochs on the same "
        f"{args.labelled} pairs) painting {args.synthetic} perturbed label maps of the subset; "
        f"mixed at ratio {args.ratio}. 200 held-out test images, best-on-validation checkpoint; "
        "2-core CPU.",
        "",
    ]
    lines += paired_table(
        "| seed | real only mIoU | real + generated mIoU | difference |",
        [baseline for _, baseline, _ in rows],
        [mixed for _, _, mixed in rows],
    )
    lines += [
        "",
        f"Time per seed: real-only U-Net {seconds['baseline'] / args.seeds:.0f} s, pix2pix + "
        f"synthesis {seconds['pix2pix'] / args.seeds:.0f} s, mixed U-Net "
        f"{seconds['mixed'] / args.seeds:.0f} s.",
    ]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
