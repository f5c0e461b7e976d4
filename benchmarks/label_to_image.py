"""Label -> image quality the SPADE way: pix2pix and SPADE side by side on the street scenes.

Usage:
    python benchmarks/label_to_image.py [--steps 1500] [--seeds 1] [--first-seed 0] [--hidden 32]

Park et al. 2019 score a label -> image generator by running a segmenter trained on real
images on the generated ones (mIoU against the label maps they were painted from) and by
FID. Here, at the benchmark budget (64x64 scenes, 2,000 training pairs, batch 16):

1. the judge: a U-Net (``small``) trained on the 2,000 real labelled scenes for
   ``--judge-steps`` (as in ``streets_calibration.py``); its mIoU on the 200 real test
   scenes is the ceiling;
2. pix2pix (``Pix2Pix``, L1 100, Adam 2e-4 / 0.5) and SPADE (``GauGAN``: hinge, feature
   matching 10, TTUR) each trained for ``--steps`` steps on the same pairs, both with
   ``--filters`` / ``--d-filters`` (SPADE's SPADE layers with ``--hidden`` channels; the
   paper's 128 costs about 4x the time of 32 on a CPU);
3. each generator paints the 200 test label maps; the judge's mIoU on those images, and
   FID / KID between them and the 200 real test images on the judge's pooled bottleneck
   features (a streets-specific extractor: not comparable with published FID).

Writes benchmarks/results/label_to_image.md (or ``--out``).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen.data.street_drawing import STREET_CLASSES  # noqa: E402

SIZE, BATCH, TRAIN, TEST = 64, 16, 2000, 200
CLASSES = len(STREET_CLASSES)
RESULTS = os.path.join(os.path.dirname(__file__), "results", "label_to_image.md")


def streets(split, num_examples, seed, **options):
    """The street scenes as (images in [0, 1], int masks) batches."""
    return keras_segen.data.load_segmentation(
        "streets", split=split, image_size=SIZE, batch_size=BATCH, num_examples=num_examples,
        seed=seed, **options,
    )  # fmt: skip


def train_judge(steps, seed):
    """The U-Net of streets_calibration.py trained on the real training scenes."""
    keras.utils.set_random_seed(seed)
    data = streets("train", TRAIN, seed, augment="geometric").repeat()
    model = keras_segen.get_model(
        "unet", "small", input_shape=(SIZE, SIZE, 3), num_classes=CLASSES
    )
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, steps)
    model.compile(keras.optimizers.Adam(schedule), keras_segen.losses.CEDiceLoss())
    model.fit(data, steps_per_epoch=steps // 10, epochs=10, verbose=0)
    return model


def judged_miou(judge, images, masks):
    """The judge's mean IoU on ``images`` (in [0, 1]) against ``masks``."""
    metric = keras_segen.metrics.MeanIoU(CLASSES)
    for start in range(0, len(images), 50):
        logits = judge(images[start : start + 50], training=False)
        metric.update_state(masks[start : start + 50], logits)
    return float(metric.result())


def judge_features(judge):
    """FID features: the judge's bottleneck, average-pooled (128-d)."""
    pooled = keras.layers.GlobalAveragePooling2D()(judge.get_layer("bottleneck_conv2_relu").output)
    model = keras.Model(judge.input, pooled)
    return keras_segen.metrics.FeatureExtractor(
        model, None, "streets U-Net bottleneck, 128-d, not Inception", input_range=(0, 1)
    )


def synthesiser(method, args):
    """An untrained, compiled label -> image trainer."""
    shape = (SIZE, SIZE, CLASSES)
    if method == "pix2pix":
        trainer = keras_segen.Pix2Pix(
            keras_segen.pix2pix_generator(shape, filters=args.filters),
            keras_segen.patchgan_discriminator(shape, filters=args.d_filters),
            num_classes=CLASSES,
        )
        trainer.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5))
        return trainer
    trainer = keras_segen.GauGAN(
        keras_segen.spade_generator(shape, filters=args.filters, hidden=args.hidden),
        keras_segen.spade_discriminator(shape, filters=args.d_filters),
        num_classes=CLASSES,
    )
    trainer.compile()  # the authors' TTUR
    return trainer


def train_synthesiser(method, args, seed):
    """``(trainer, seconds)`` after ``args.steps`` steps on the training pairs."""
    keras.utils.set_random_seed(seed)
    pairs = streets("train", TRAIN, seed).map(lambda image, mask: (mask, image * 2 - 1))
    trainer = synthesiser(method, args)
    start = time.perf_counter()
    trainer.fit(pairs.repeat(), steps_per_epoch=args.steps // 10, epochs=10, verbose=0)
    return trainer, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--judge-steps", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["pix2pix", "spade"])
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--d-filters", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()

    judge = train_judge(args.judge_steps, seed=0)
    test = streets("test", TEST, seed=0, shuffle=False, pipeline="numpy")
    images, masks = test.arrays
    real_miou = judged_miou(judge, images, masks)
    extractor = judge_features(judge)
    print(f"judge: mIoU {real_miou:.3f} on the real test scenes", flush=True)
    results = {method: [] for method in args.methods}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for method in args.methods:
            trainer, seconds = train_synthesiser(method, args, seed)
            generated = keras_segen.pipelines.generate_from_label_maps(trainer, masks)
            report = keras_segen.metrics.generation_report(
                images * 2 - 1, generated * 2 - 1, extractor
            )
            row = (judged_miou(judge, generated, masks), report["fid"], report["kid"], seconds)
            results[method].append(row)
            print(f"{method} seed {seed}: judged mIoU {row[0]:.3f}, FID {row[1]:.3f}, "
                  f"KID {row[2]:.4f} ({seconds:.0f} s)", flush=True)  # fmt: skip

    def mean(rows, column):
        values = [row[column] for row in rows]
        spread = f" (sd {statistics.stdev(values):.3f})" if len(values) > 1 else ""
        return f"{statistics.mean(values):.3f}{spread}"

    lines = [
        "# Label -> image: pix2pix and SPADE on the street scenes",
        "",
        f"`python benchmarks/label_to_image.py --steps {args.steps} --judge-steps "
        f"{args.judge_steps} --seeds {args.seeds} --first-seed {args.first_seed} "
        f"--filters {args.filters} --d-filters {args.d_filters} --hidden {args.hidden}`: "
        f"{SIZE}x{SIZE} scenes, {TRAIN} training "
        f"pairs, batch {BATCH}, {args.steps} steps each; the judge (U-Net `small`, "
        f"{args.judge_steps} steps on the real pairs) scores {real_miou:.3f} mIoU on the "
        f"{TEST} real test scenes. FID / KID: generated vs real test scenes on the judge's "
        "bottleneck features (lower is better; not comparable with published FID).",
        "",
        "| method | judged mIoU on generated scenes | FID | KID | seconds | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for method, rows in results.items():
        lines.append(f"| {method} | {mean(rows, 0)} | {mean(rows, 1)} | {mean(rows, 2)} | "
                     f"{mean(rows, 3)} | {len(rows)} |")  # fmt: skip
    publish(lines, args.out)


if __name__ == "__main__":
    main()
