"""Adversarial (Luc et al. 2016) vs plain cross-entropy training of the same U-Net on shapes.

Usage:
    python benchmarks/adversarial_segmentation.py [--seeds 3] [--epochs 6] [--weight 0.1]

Both arms are ``keras_segen.train`` runs with identical data, order, model, optimizer,
schedule and number of steps; the adversarial arm adds a ``label_map_discriminator`` and
lambda * adversarial loss (``adversarial_weight``). The score is the held-out (test split)
mean IoU of each run's best-on-validation checkpoint. Writes
benchmarks/results/adversarial_segmentation.md.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import paired_table, publish  # noqa: E402

import keras_segen  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "adversarial_segmentation.md")


def run(seed, weight, args, root):
    """Held-out mean IoU and seconds of one training run."""
    start = time.perf_counter()
    report = keras_segen.train(
        "unet",
        args.dataset,
        epochs=args.epochs,
        batch_size=8,
        image_size=64,
        out=os.path.join(root, f"seed{seed}_weight{weight}"),
        preset="small",
        learning_rate=2e-3,
        loss="ce",
        augment=False,
        num_examples=args.num_examples,
        validation_examples=200,
        seed=seed,
        adversarial_weight=weight,
        discriminator_filters=args.discriminator_filters,
        verbose=0,
    )
    return report["mean_iou"], time.perf_counter() - start


def main():
    """Runs both arms for every seed; prints and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--num-examples", type=int, default=1000)
    parser.add_argument("--weight", type=float, default=0.1)
    parser.add_argument("--discriminator-filters", type=int, default=16)
    parser.add_argument("--out", default=RESULTS, help="Markdown file to write")
    args = parser.parse_args()
    scores = {0.0: [], args.weight: []}
    seconds = {0.0: 0.0, args.weight: 0.0}
    with tempfile.TemporaryDirectory() as root:
        for seed in range(args.seeds):
            for weight in scores:
                miou, elapsed = run(seed, weight, args, root)
                scores[weight].append(miou)
                seconds[weight] += elapsed
                print(f"seed {seed} lambda {weight}: held-out mIoU {miou:.4f} ({elapsed:.0f} s)")
    lines = [
        "# Adversarial vs plain cross-entropy segmentation (shapes, held-out test split)",
        "",
        f"U-Net (filters 8, depth 4), 64x64, {args.num_examples} training images, "
        f"{args.epochs} epochs, batch 8, Adam 2e-3 cosine, CE loss; adversarial arm: "
        f"label_map_discriminator(filters={args.discriminator_filters}), lambda = "
        f"{args.weight}, scaling tau 0.9. 200 held-out test images; best-on-validation "
        "checkpoint. 2-core CPU.",
        "",
        *paired_table(
            "| seed | cross-entropy mIoU | adversarial mIoU | difference |",
            scores[0.0],
            scores[args.weight],
        ),
        "",
        f"Time per run: cross-entropy {seconds[0.0] / args.seeds:.0f} s, adversarial "
        f"{seconds[args.weight] / args.seeds:.0f} s.",
    ]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
