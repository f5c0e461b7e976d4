"""Evidence that the generation trainers learn, on the embedded shapes data, on a CPU.

Usage:
    python benchmarks/generation_learning.py [--gan-epochs 15] [--pix2pix-epochs 10]

1. DCGAN at 32x32: FID and KID of the untrained generator and after training, against
   held-out real images, plus the novelty ratio (1 = as novel as fresh real data, 0 =
   copies the training set). InceptionV3 ImageNet weights cannot be downloaded on this
   machine, so the features come from two untrained extractors (8x8 pooled pixels; a
   fixed random CNN): the numbers compare runs with each other and are NOT comparable
   with published FID. Real-vs-real FID (held-out against training images) is the floor.
2. pix2pix label map -> image at 64x64 on ``shapes_coloured`` (each class has a fixed
   colour; on plain ``shapes`` colours are random, so no generator can predict them from
   the labels): held-out L1, PSNR and SSIM before and after.

Writes benchmarks/results/generation_learning.md.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import metrics  # noqa: E402
from keras_segen.data import load_images, load_segmentation  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "generation_learning.md")


def _array(dataset):
    return np.concatenate([np.asarray(batch[0] if isinstance(batch, tuple) else batch)
                           for batch in dataset])  # fmt: skip


def feature_extractors(size, seed):
    """Two cheap, untrained extractors: 8x8 pixels and a fixed random CNN (4x4 pooled)."""
    inputs = keras.Input((size, size, 3))
    pixels = keras.layers.Flatten()(keras.layers.AveragePooling2D(size // 8)(inputs))
    x = inputs
    initializer = keras.initializers.HeNormal(seed)
    for width in (32, 64, 64):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                kernel_initializer=initializer)(x)  # fmt: skip
        x = keras.layers.AveragePooling2D(2)(x)
    cnn = keras.layers.Flatten()(keras.layers.AveragePooling2D(size // 32)(x))
    return {
        "pixels 8x8": metrics.FeatureExtractor(keras.Model(inputs, pixels), None, "pixels 8x8"),
        "random CNN": metrics.FeatureExtractor(keras.Model(inputs, cnn), None, "random CNN"),
    }


def gan_run(args):
    size, latent = 32, 64
    extractors = feature_extractors(size, args.seed)
    train = load_images("shapes", "train", size, 64, num_examples=args.examples, seed=args.seed)
    held_out = _array(load_images("shapes", "test", size, 256, num_examples=1000, seed=args.seed))
    training = _array(train)[:1000]
    real = {name: extract(held_out) for name, extract in extractors.items()}
    seen = {name: extract(training) for name, extract in extractors.items()}
    gan = keras_segen.GAN(
        keras_segen.dcgan_generator(latent, (size, size, 3), filters=32),
        keras_segen.dcgan_discriminator((size, size, 3), filters=32),
        seed=args.seed,
    )
    gan.compile()

    def score():
        fake = keras.ops.convert_to_numpy(gan(gan.sample_latent(1000)))
        rows = {}
        for name, extract in extractors.items():
            features = extract(fake)
            rows[name] = {
                "fid": metrics.frechet_distance(real[name], features),
                "kid": metrics.kernel_inception_distance(real[name], features, 20, 500)[0],
                "novelty_ratio": metrics.novelty_score(features, seen[name], real[name])["ratio"],
            }
        return rows

    before = score()
    start = time.perf_counter()
    gan.fit(train, epochs=args.gan_epochs, verbose=0)
    seconds = time.perf_counter() - start
    after = score()
    floor = {name: metrics.frechet_distance(real[name], seen[name]) for name in extractors}
    keras_segen.viz.image_grid(keras.ops.convert_to_numpy(gan(gan.sample_latent(36)))).savefig(
        os.path.join(os.path.dirname(RESULTS), "dcgan_shapes_samples.png"), dpi=80
    )
    return before, after, floor, seconds


def pix2pix_run(args):
    size = 64

    def pairs(split, count, shuffle):
        data = load_segmentation(
            "shapes_coloured", split, size, 16, num_examples=count, seed=args.seed, shuffle=shuffle
        )
        return data.map(lambda image, mask: (mask, image * 2.0 - 1.0))

    train, test = pairs("train", args.examples // 2, True), pairs("test", 200, False)
    pix2pix = keras_segen.Pix2Pix(
        keras_segen.pix2pix_generator((size, size, 4), 3, filters=16),
        keras_segen.patchgan_discriminator((size, size, 4), 3, filters=16),
        num_classes=4,
    )
    pix2pix.compile()
    before = keras_segen.runs.paired_report(pix2pix, test)
    start = time.perf_counter()
    pix2pix.fit(train, epochs=args.pix2pix_epochs, verbose=0)
    seconds = time.perf_counter() - start
    return before, keras_segen.runs.paired_report(pix2pix, test), seconds


def main():
    """Runs both experiments, prints and writes the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--gan-epochs", type=int, default=15)
    parser.add_argument("--pix2pix-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    before, after, floor, gan_seconds = gan_run(args)
    p_before, p_after, p_seconds = pix2pix_run(args)
    lines = [
        "# Generation trainers learn (shapes, CPU)",
        "",
        f"DCGAN 32x32 (filters 32, latent 64), {args.examples} training images, "
        f"{args.gan_epochs} epochs in {gan_seconds:.0f} s; 1000 generated vs 1000 held-out "
        "images. Features from untrained extractors (8x8 average-pooled pixels; a fixed "
        "random 3-layer CNN): **not comparable with published FID**. 'real floor' is "
        "held-out vs training real images. Novelty ratio: 1 = as novel as fresh real data, "
        "0 = copies of the training set.",
        "",
        "| features | FID untrained | FID trained | real floor | KID untrained | KID trained "
        "| novelty ratio trained |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {before[name]['fid']:.2f} | {after[name]['fid']:.2f} | "
            f"{floor[name]:.2f} | {before[name]['kid']:.4f} | {after[name]['kid']:.4f} | "
            f"{after[name]['novelty_ratio']:.2f} |"
            for name in before
        ),
        "",
        "pix2pix label map -> image 64x64 on shapes_coloured (filters 16), "
        f"{args.examples // 2} pairs, "
        f"{args.pix2pix_epochs} epochs in {p_seconds:.0f} s; 200 held-out pairs. PSNR and "
        "SSIM on the [-1, 1] images (SSIM as scikit-image defines it, intensities measured "
        "from -1).",
        "",
        "| pix2pix | L1 | PSNR (dB) | SSIM |",
        "|---|---|---|---|",
        *(
            f"| {name} | {row['l1']:.4f} | {row['psnr']:.2f} | {row['ssim']:.4f} |"
            for name, row in (("untrained", p_before), ("trained", p_after))
        ),
    ]
    publish(lines, RESULTS)


if __name__ == "__main__":
    main()
