"""Does generation help segmentation? Held-out mIoU of a U-Net on the embedded street scenes
with few labels, trained supervised only and with each fusion method, over several seeds.
Writes benchmarks/results/fusion.md.

Methods (all: U-Net ``small``, 64x64, batch 16 labelled (+ 16 unlabelled), CE + Dice on the
labelled images, Adam 1e-3 with a cosine decay, geometric augmentation, the same steps):
- ``supervised``: labelled images only;
- ``luc``: + adversarial loss on labelled images (Luc et al. 2016, lambda 0.1; its
  discriminator at width 16 as in ``adversarial_segmentation.py``: at the paper's width 64,
  on 64x64 label maps where the paper's were a quarter of the image size, one run took
  over 45 minutes here);
- ``hung``: semi-supervised adversarial (Hung et al. 2018, the authors' weights, warm-up a
  quarter of the steps) with the unlabelled scenes;
- ``hung-scaled``: the same, with the ground truth D sees "scaled" as Luc et al. do
  (tau 0.9), so that D cannot tell it from predictions by their values alone;
- ``self-training``: the same pseudo-label term from the segmenter's own softmax (> 0.9),
  no discriminator: the discriminator's share of ``hung``;
- ``hung-colour``: ``hung`` with the pseudo-label term at weight 1 on a colour-perturbed
  copy of the unlabelled batch (``perturbation="colour"``, FixMatch's weak/strong split),
  the pseudo-labels being the 70% of each batch's pixels that D ranks most confident
  (``pseudo_label_share=0.7``: D's confidence falls below the paper's T = 0.2);
- ``self-training-colour``: the same with the segmenter's top softmax probability ranking
  the pixels, no discriminator: the discriminator's share of ``hung-colour``;
- ``spade-pairs``: SPADE (``GauGAN``, ngf 16, 32 hidden, 2-scale PatchGAN 16, TTUR)
  trained for ``--spade-steps`` on the labelled scenes only paints ``--synthetic``
  perturbed copies of their label maps (``STREET_PERTURBATION``: left-right flips,
  vehicles, people and poles pasted from other maps); supervised training on real and
  painted pairs mixed half and half (``mix_datasets``). Its s/run includes SPADE's training.

For ``hung`` and ``self-training`` it also reports, on the 200 validation scenes, the share
of pixels whose confidence passes the threshold and the accuracy of the pseudo-labels there
(against the true masks), next to the segmenter's accuracy on all pixels.

    python benchmarks/fusion.py [--labels 50 200] [--unlabelled 2000] [--seeds 3]
        [--steps 2000] [--methods supervised luc hung self-training hung-colour
        self-training-colour spade-pairs]
        [--spade-steps 1500] [--synthetic 1000]
"""

import argparse
import os
import statistics
import time

import keras
import numpy as np

import keras_segen
from keras_segen.data.street_drawing import STREET_CLASSES

SIZE, BATCH = 64, 16
METHODS = ("supervised", "luc", "hung", "hung-scaled", "self-training", "hung-colour",
           "self-training-colour", "spade-pairs")
SEMI_SUPERVISED = ("hung", "hung-scaled", "self-training", "hung-colour", "self-training-colour")
COLOUR_VIEW = {"self_training_weight": 1.0, "perturbation": "colour", "pseudo_label_share": 0.7}
NUM_CLASSES = len(STREET_CLASSES)


def _segmenter():
    return keras_segen.get_model("unet", "small", input_shape=(SIZE, SIZE, 3),
                                 num_classes=NUM_CLASSES)  # fmt: skip


def _trainer(method, steps):
    segmenter = _segmenter()
    if method in ("supervised", "spade-pairs"):
        segmenter.compile(_optimizer(steps), keras_segen.losses.CEDiceLoss())
        return segmenter
    if method == "luc":
        discriminator = keras_segen.label_map_discriminator(
            (SIZE, SIZE, 3), NUM_CLASSES, filters=16
        )
        trainer = keras_segen.AdversarialSegmenter(segmenter, discriminator, 0.1, loss="ce_dice")
        trainer.compile(_optimizer(steps))
        return trainer
    options = {"warmup_steps": steps // 4, "loss": "ce_dice"}
    if method.endswith("-colour"):
        options.update(COLOUR_VIEW)
    if method.startswith("hung"):
        discriminator = keras_segen.confidence_discriminator((SIZE, SIZE, NUM_CLASSES))
        trainer = keras_segen.SemiSupervisedSegmenter(
            segmenter, discriminator, scaling_tau=0.9 if method == "hung-scaled" else None,
            **options,
        )  # fmt: skip
    else:
        trainer = keras_segen.SelfTrainingSegmenter(segmenter, **options)
    trainer.compile(_optimizer(steps))
    return trainer


def _optimizer(steps):
    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps))


def _labelled(labels, seed, **options):
    return keras_segen.data.load_segmentation(
        "streets", image_size=SIZE, batch_size=None, num_examples=labels, seed=seed, **options
    )


def spade_pairs(labels, seed, spade_steps, synthetic):
    """``synthetic`` (images, masks) painted by a SPADE trained on the labelled scenes."""
    shape = (SIZE, SIZE, NUM_CLASSES)
    painter = keras_segen.GauGAN(
        keras_segen.spade_generator(shape, filters=16, hidden=32),
        keras_segen.spade_discriminator(shape, filters=16), num_classes=NUM_CLASSES,
    )  # fmt: skip
    painter.compile()  # the authors' TTUR
    pairs = _labelled(labels, seed).map(lambda image, mask: (mask, image * 2 - 1))
    painter.fit(pairs.repeat().batch(BATCH), steps_per_epoch=max(spade_steps // 10, 1),
                epochs=10, verbose=0)  # fmt: skip
    masks = np.stack([mask.numpy() for _, mask in _labelled(labels, seed)])
    return keras_segen.pipelines.synthetic_pairs(
        painter, masks, synthetic, seed=seed, perturb=keras_segen.data.STREET_PERTURBATION
    )


def _data(method, labels, unlabelled, seed, painted=None):
    import tensorflow as tf

    labelled = _labelled(labels, seed, augment="geometric")
    if method == "spade-pairs":
        painted = tf.data.Dataset.from_tensor_slices(painted)
        labelled = keras_segen.data.mix_datasets(labelled, painted, 0.5, seed=seed)
    labelled = labelled.repeat().batch(BATCH)
    if method not in SEMI_SUPERVISED:
        return labelled
    images = keras_segen.data.load_unlabelled("streets", SIZE, num_examples=unlabelled, seed=seed)
    return tf.data.Dataset.zip((labelled, images.repeat().batch(BATCH)))


def _split(split, seed):
    return keras_segen.data.load_segmentation("streets", split=split, image_size=SIZE,
                                              batch_size=50, seed=seed)  # fmt: skip


def held_out(segmenter, seed):
    """``(mIoU, {class: IoU})`` on the 200 test scenes."""
    metric = keras_segen.metrics.MeanIoU(NUM_CLASSES)
    for images, masks in _split("test", seed):
        metric.update_state(masks, segmenter(images, training=False))
    matrix = np.asarray(metric.matrix, float)
    union = matrix.sum(0) + matrix.sum(1) - np.diag(matrix)
    return float(metric.result()), dict(zip(STREET_CLASSES, np.diag(matrix) / union))


def pseudo_label_quality(trainer, seed):
    """On the validation scenes: ``(share selected, accuracy where selected, accuracy, accuracy
    of the same share of pixels picked by the top softmax probability)``; the last one is
    what the segmenter's own confidence would have chosen in the discriminator's place."""
    counts = np.zeros(5)  # selected, right among them, right, pixels, right among softmax's
    share = trainer.pseudo_label_share
    for images, masks in _split("validation", seed):
        logits = trainer.segmenter(images, training=False)
        probabilities = keras.ops.softmax(logits)
        top = keras.ops.convert_to_numpy(keras.ops.max(probabilities, axis=-1))
        confidence = top
        if isinstance(trainer, keras_segen.SemiSupervisedSegmenter):
            confidence = keras.ops.sigmoid(trainer.discriminator(probabilities))[..., 0]
            confidence = keras.ops.convert_to_numpy(confidence)
        if share is None:
            chosen = confidence > trainer.confidence_threshold
        else:
            chosen = confidence >= np.quantile(confidence, 1 - share)
        by_softmax = top >= np.quantile(top, 1 - max(chosen.mean(), 1e-6))
        right = np.argmax(keras.ops.convert_to_numpy(logits), -1) == masks.numpy()
        counts += [chosen.sum(), (right & chosen).sum(), right.sum(), right.size,
                   (right & by_softmax).sum()]  # fmt: skip
    selected, right_selected, right, pixels, right_softmax = counts
    if not selected:
        return 0.0, float("nan"), right / pixels, float("nan")
    return selected / pixels, right_selected / selected, right / pixels, right_softmax / selected


def run(method, labels, unlabelled, steps, seed, spade_steps=1500, synthetic=1000):
    """One training run: a dict of its scores."""
    keras.utils.set_random_seed(seed)
    painted, spade_seconds = None, 0.0
    if method == "spade-pairs":
        start = time.perf_counter()
        painted = spade_pairs(labels, seed, spade_steps, synthetic)
        spade_seconds = time.perf_counter() - start
    trainer = _trainer(method, steps)
    data = _data(method, labels, unlabelled, seed, painted)
    start = time.perf_counter()
    history = trainer.fit(data, steps_per_epoch=steps // 10, epochs=10, verbose=0).history
    seconds = spade_seconds + time.perf_counter() - start  # training time, SPADE's included
    segmenter = getattr(trainer, "segmenter", trainer)
    miou, classes = held_out(segmenter, seed)
    result = {"miou": miou, "classes": classes, "seconds": seconds}
    if method in SEMI_SUPERVISED:
        result["pseudo"] = pseudo_label_quality(trainer, seed)
        result["fraction_by_epoch"] = history["pseudo_label_fraction"]
    return result


def _report(results, args):
    lines = [
        "# Fusion: does generation help segmentation on the street scenes?\n",
        f"`python benchmarks/fusion.py --labels {' '.join(map(str, args.labels))} --unlabelled "
        f"{args.unlabelled} --seeds {args.seeds} --steps {args.steps} --methods "
        f"{' '.join(args.methods)}"
        + (f" --spade-steps {args.spade_steps} --synthetic {args.synthetic}"
           if "spade-pairs" in args.methods else "")
        + f"`: U-Net `small`, {SIZE}x{SIZE}, batch {BATCH}, {args.steps} "
        "steps, held-out mIoU on the 200 test scenes (8 classes). Difference: the method's "
        "mIoU minus supervised-only's with the same seed.\n",
        "| labels | method | mIoU mean | sd | per-seed mIoU | per-seed difference | "
        "mean difference | s/run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for labels in args.labels:
        base = [r["miou"] for r in results.get((labels, "supervised"), [])]
        for method in args.methods:
            if (labels, method) not in results:
                continue
            scores = [r["miou"] for r in results[(labels, method)]]
            spread = statistics.stdev(scores) if len(scores) > 1 else float("nan")
            differences = [s - b for s, b in zip(scores, base)] if method != "supervised" else []
            mean_difference = f"{statistics.mean(differences):+.3f}" if differences else ""
            seconds = statistics.mean(r["seconds"] for r in results[(labels, method)])
            lines.append(
                f"| {labels} | {method} | {statistics.mean(scores):.3f} | {spread:.3f} | "
                f"{', '.join(f'{s:.3f}' for s in scores)} | "
                f"{', '.join(f'{d:+.3f}' for d in differences)} | {mean_difference} | "
                f"{seconds:.0f} |"
            )
    lines += ["", "Pseudo-labels on the validation scenes at the end of training (mean over "
              "seeds): share of pixels selected, accuracy of the selected pixels, accuracy of "
              "all pixels, and accuracy of the same share of pixels picked by the top softmax "
              "probability instead.", "", "| labels | method | selected | accuracy selected | "
              "accuracy all | accuracy, softmax's pick |", "|---|---|---|---|---|---|"]  # fmt: skip
    for (labels, method), runs in results.items():
        if "pseudo" in runs[0]:
            share, selected, overall, softmax = np.mean([r["pseudo"] for r in runs], axis=0)
            lines.append(f"| {labels} | {method} | {share:.3f} | {selected:.3f} | {overall:.3f} "
                         f"| {softmax:.3f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--unlabelled", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--spade-steps", type=int, default=1500)
    parser.add_argument("--synthetic", type=int, default=1000)
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "fusion.md"))  # fmt: skip
    args = parser.parse_args()
    if "supervised" not in args.methods:
        args.methods.insert(0, "supervised")
    results = {}
    for labels in args.labels:
        for seed in range(args.seeds):
            for method in args.methods:  # interleaved, so drift hits every method alike
                result = run(method, labels, args.unlabelled, args.steps, seed,
                             args.spade_steps, args.synthetic)  # fmt: skip
                results.setdefault((labels, method), []).append(result)
                extra = result.get("pseudo")
                print(f"{labels} labels, seed {seed}, {method}: mIoU {result['miou']:.3f} "
                      f"({result['seconds']:.0f} s)"
                      + (f"; pseudo-labels {extra[0]:.2f} selected, {extra[1]:.3f} right "
                         f"(all {extra[2]:.3f}); share of unlabelled pixels above the "
                         "threshold by epoch: " + " ".join(
                             f"{f:.2f}" for f in result["fraction_by_epoch"])
                         if extra else ""), flush=True)  # fmt: skip
                with open(args.out, "w") as file:
                    file.write(_report(results, args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
