"""int8 TFLite against the float model, on models trained on the embedded shapes data.

Usage:
    python benchmarks/int8_accuracy.py [--size 128] [--epochs 4] [--train 2000] [--test 64]
        [--calibration 200] [--gan-epochs 5] [--gan-train 768] [--models unet,segnet,...]
        [--keep DIR] [--qat-steps 250] [--qat-rate 1e-4]

Every segmentation family (``edge`` preset at ``--size`` x ``--size``, 4 classes) is
trained on the ``shapes`` training split (cross-entropy, Adam 2e-3 with cosine decay,
batch 8, BatchNorm momentum 0.9 so that its statistics settle in a short run), exported to
full-integer int8 TFLite (calibrated on ``--calibration`` training images) and compared
with the float Keras model on held-out test images: argmax agreement, mIoU of each
against the ground truth and the change. The generators (DCGAN, conditional, VAE
decoder at 64x64; pix2pix at ``--size``) are trained briefly with their trainers and
compared by PSNR of the int8 output against the float output (images in [-1, 1]).
A second table fine-tunes each trained segmenter ``--qat-steps`` more steps in float and
quantization-aware from the same weights and compares their int8 exports.
Writes benchmarks/results/int8_accuracy.md.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from results_file import publish  # noqa: E402

import keras_segen  # noqa: E402
from keras_segen import export, metrics  # noqa: E402
from keras_segen.data import load_images, load_segmentation  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "int8_accuracy.md")
CLASSES = 4  # background + the three shapes
GENERATOR_SIZE = 64
LATENT = 64


def arrays(dataset):
    """The whole of a batched ``(images, masks)`` dataset as two arrays."""
    parts = list(zip(*[(np.asarray(x), np.asarray(y)) for x, y in dataset]))
    return np.concatenate(parts[0]), np.concatenate(parts[1])


def tflite_outputs(path, model, inputs, threads=2):
    """The artifact's outputs for ``inputs`` (one array per Keras input), fed by input name."""
    names = [export.convert.input_name(tensor, i) for i, tensor in enumerate(model.inputs)]
    return export.ArtifactRunner(path, num_threads=threads)(dict(zip(names, inputs)))


def int16x8_tflite(model, calibration, path):
    """The 16x8 export (int16 activations, int8 weights) through a SavedModel, or ``None``
    with the converter's reason when it cannot calibrate the model."""
    import tensorflow as tf

    # Unrolled as for int8: the calibrator hangs on ReSeg's RNN loops.
    model = export.convert.unrolled(model, export.input_specs(model))
    saved = export.to_saved_model(model, path + "_saved_model")
    path += ".tflite"
    converter = tf.lite.TFLiteConverter.from_saved_model(saved, ["serve"])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    name = export.convert.input_name(model.inputs[0])
    converter.representative_dataset = lambda: ({name: image[None]} for image in calibration)
    ops = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
    converter.target_spec.supported_ops = [ops]
    try:
        content = converter.convert()
    except Exception as error:  # the calibrator's RuntimeError / ConverterError
        return None, str(error).splitlines()[-1][:80]
    with open(path, "wb") as file:
        file.write(content)
    return path, None


def near_boundary(labels):
    """Per pixel: whether a pixel within 1 (chessboard distance) has another class."""
    edge = np.zeros(labels.shape, bool)
    for axis in (1, 2):
        step = np.diff(labels, axis=axis) != 0
        pad = [(0, 0)] * labels.ndim
        edge |= np.pad(step, [(0, 1) if a == axis else p for a, p in enumerate(pad)])
        edge |= np.pad(step, [(1, 0) if a == axis else p for a, p in enumerate(pad)])
    padded = np.pad(edge, [(0, 0), (1, 1), (1, 1)])
    height, width = labels.shape[1:]
    return np.any(
        [padded[:, i : i + height, j : j + width] for i in range(3) for j in range(3)], axis=0
    )


def top2_margin(logits):
    """Per pixel: the float model's best logit minus its second best."""
    ordered = np.sort(logits, axis=-1)
    return ordered[..., -1] - ordered[..., -2]


def mean_iou(logits, masks):
    matrix = metrics.confusion_matrix(masks, logits, CLASSES)
    return metrics.segmentation_report(matrix)["mean_iou"]


def int8_against_float(model, path, images, masks):
    """The float model and its int8 artifact ``path`` on ``images``: logits of both, the
    pixels where their classes differ, the pixels near a float class boundary, mIoU of both."""
    float_logits = model.predict(images, batch_size=8, verbose=0)
    int8_logits = tflite_outputs(path, model, [images])
    labels = float_logits.argmax(-1)
    return {
        "float_logits": float_logits,
        "int8_logits": int8_logits,
        "disagree": int8_logits.argmax(-1) != labels,
        "boundary": near_boundary(labels),
        "float_iou": mean_iou(float_logits, masks),
        "int8_iou": mean_iou(int8_logits, masks),
    }


def settle_quickly(model, momentum=0.9):
    """Lowers every BatchNorm's momentum (MobileNetV2's is 0.999) so that the moving
    statistics match the weights after a few hundred steps, as after a full training."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    return model


def segmenter_row(name, args, directory):
    """Trains one family, exports int8; returns its table row, the model and its data."""
    keras.utils.set_random_seed(args.seed)
    common = dict(image_size=args.size, num_classes=CLASSES, seed=args.seed)
    train = load_segmentation("shapes", "train", batch_size=8, num_examples=args.train, **common)
    test_images, test_masks = arrays(
        load_segmentation("shapes", "test", batch_size=16, num_examples=args.test, **common)
    )
    kept = args.keep and os.path.join(args.keep, f"{name}.keras")
    start = time.perf_counter()
    if kept and os.path.exists(kept):
        model = keras.saving.load_model(kept)
    else:
        model = settle_quickly(
            keras_segen.get_model(
                name, preset="edge", input_shape=(args.size, args.size, 3), num_classes=CLASSES
            )
        )
        steps = args.epochs * -(-args.train // 8)
        schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps)
        model.compile(keras.optimizers.Adam(schedule), keras_segen.losses.CrossEntropy())
        model.fit(train, epochs=args.epochs, verbose=0)
        if kept:
            model.save(kept)
    seconds = time.perf_counter() - start  # for a model reused from --keep: its load time
    calibration = arrays(train.take(-(-args.calibration // 8)))[0][: args.calibration]
    path = export.to_tflite(model, os.path.join(directory, f"{name}.tflite"), "int8", calibration)
    compared = int8_against_float(model, path, test_images, test_masks)
    float_logits, disagree, boundary = (
        compared[k] for k in ("float_logits", "disagree", "boundary")
    )
    float_iou, int8_iou = compared["float_iou"], compared["int8_iou"]
    margins = top2_margin(float_logits)
    path16, failure = int16x8_tflite(model, calibration, os.path.join(directory, f"{name}_16x8"))
    if path16:
        agreement16 = np.mean(
            tflite_outputs(path16, model, [test_images]).argmax(-1) == float_logits.argmax(-1)
        )
        int16 = f"{agreement16:.4f}"
    else:
        int16 = f"fails: {failure}"
    return (
        (
            f"| {name} | {seconds:.0f} | {float_iou:.4f} | {int8_iou:.4f} | "
            f"{int8_iou - float_iou:+.4f} | {1 - disagree.mean():.4f} | "
            f"{np.median(margins[disagree]) if disagree.any() else 0:.3f} / "
            f"{np.median(margins):.2f} | "
            f"{np.ptp(float_logits):.1f} | "
            f"{np.mean(boundary[disagree]) if disagree.any() else 1:.3f} | "
            f"{1 - disagree[~boundary].mean():.5f} | {int16} |"
        ),
        model,
        (train, test_images, test_masks, calibration, float_iou),
    )


def fine_tuned_rows(name, model, data, args, directory):
    """Fine-tunes the trained model ``--qat-steps`` more steps twice from the same weights,
    in float (the control) and quantization-aware (``keras_segen.quantization_aware``);
    returns one row each: int8 against its own float model and against the ground truth."""
    train, test_images, test_masks, calibration, trained_iou = data
    saved = os.path.join(directory, f"{name}_trained.keras")
    model.save(saved)
    rows = []
    for kind in ("float", "quantization-aware"):
        keras.utils.set_random_seed(args.seed)
        model = keras.saving.load_model(saved)
        view = keras_segen.quantization_aware(model) if kind != "float" else model
        schedule = keras.optimizers.schedules.CosineDecay(args.qat_rate, args.qat_steps)
        view.compile(keras.optimizers.Adam(schedule), keras_segen.losses.CrossEntropy())
        start = time.perf_counter()
        view.fit(train.repeat().take(args.qat_steps), verbose=0)
        seconds = time.perf_counter() - start
        path = export.to_tflite(
            model, os.path.join(directory, f"{name}_{len(rows)}.tflite"), "int8", calibration
        )
        compared = int8_against_float(model, path, test_images, test_masks)
        disagree, boundary, int8_iou = (compared[k] for k in ("disagree", "boundary", "int8_iou"))
        if view is model:
            simulated = "-"
        else:
            fake = view.predict(test_images, batch_size=8, verbose=0).argmax(-1)
            simulated = f"{np.mean(fake == compared['int8_logits'].argmax(-1)):.4f}"
        rows.append(
            f"| {name} | {kind} | {seconds:.0f} | {trained_iou:.4f} | "
            f"{compared['float_iou']:.4f} | {int8_iou:.4f} | "
            f"{int8_iou - trained_iou:+.4f} | {1 - disagree.mean():.4f} | "
            f"{1 - disagree[~boundary].mean():.5f} | {simulated} |"
        )
    return rows


def trained_dcgan(args):
    """A DCGAN generator trained on shapes, and latents to compare on."""
    size = GENERATOR_SIZE
    images = load_images("shapes", "train", size, 32, num_examples=args.gan_train, seed=args.seed)
    gan = keras_segen.GAN(
        keras_segen.dcgan_generator(LATENT, (size, size, 3), filters=32),
        keras_segen.dcgan_discriminator((size, size, 3), filters=32),
        seed=args.seed,
    )
    gan.compile()
    gan.fit(images, epochs=args.gan_epochs, verbose=0)
    return gan.generator, [latents(args)]


def trained_conditional(args):
    """A conditional generator trained on shapes labelled by their dominant shape."""
    size = GENERATOR_SIZE
    labelled = load_images(
        "shapes", "train", size, 32, labels=True, num_examples=args.gan_train, seed=args.seed
    )
    cgan = keras_segen.ConditionalGAN(
        keras_segen.conditional_generator(LATENT, 3, (size, size, 3), filters=32),
        keras_segen.conditional_discriminator((size, size, 3), 3, filters=32),
        num_classes=3,
        seed=args.seed,
    )
    cgan.compile()
    cgan.fit(labelled, epochs=args.gan_epochs, verbose=0)
    return cgan.generator, [latents(args), (np.arange(args.test) % 3).astype("int32")]


def trained_vae_decoder(args):
    """A VAE decoder trained on shapes."""
    size = GENERATOR_SIZE
    images = load_images("shapes", "train", size, 32, num_examples=args.gan_train, seed=args.seed)
    vae = keras_segen.VAE(
        keras_segen.vae_encoder((size, size, 3), LATENT),
        keras_segen.vae_decoder(LATENT, (size, size, 3)),
        seed=args.seed,
    )
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(images, epochs=args.gan_epochs, verbose=0)
    return vae.decoder, [latents(args)]


def trained_pix2pix(args):
    """A pix2pix generator trained on shapes_coloured label maps at ``--size``."""
    shape = (args.size, args.size, CLASSES)

    def pairs(split, count):
        data = load_segmentation(
            "shapes_coloured", split, args.size, 16, num_examples=count, seed=args.seed
        )
        return data.map(lambda image, mask: (mask, image * 2.0 - 1.0))

    pix2pix = keras_segen.Pix2Pix(
        keras_segen.pix2pix_generator(shape, 3, filters=16),
        keras_segen.patchgan_discriminator(shape, 3, filters=16),
        num_classes=CLASSES,
    )
    pix2pix.compile()
    pix2pix.fit(pairs("train", args.gan_train // 2), epochs=args.gan_epochs, verbose=0)
    masks = np.concatenate([np.asarray(mask) for mask, _ in pairs("test", args.test)])
    return pix2pix.generator, [np.eye(CLASSES, dtype="float32")[masks]]


GENERATORS = {
    "dcgan_generator": trained_dcgan,
    "conditional_generator": trained_conditional,
    "vae_decoder": trained_vae_decoder,
    "pix2pix_generator": trained_pix2pix,
}


def latents(args):
    return np.random.default_rng(args.seed).normal(size=(args.test, LATENT)).astype("float32")


def generator_row(name, args, directory):
    """Trains one generator, exports int8, returns its row (PSNR against float)."""
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    generator, inputs = GENERATORS[name](args)
    seconds = time.perf_counter() - start
    calibration = [part[: args.calibration] for part in inputs]
    path = export.to_tflite(
        generator,
        os.path.join(directory, f"{name}.tflite"),
        "int8",
        calibration if len(inputs) > 1 else calibration[0],
    )
    reference = keras.ops.convert_to_numpy(
        generator(inputs if len(inputs) > 1 else inputs[0], training=False)
    )
    psnr = metrics.psnr(tflite_outputs(path, generator, inputs), reference)
    return f"| {name} | {'x'.join(map(str, reference.shape[1:]))} | {seconds:.0f} | {psnr:.1f} |"


def main():
    """Trains, exports, compares; prints and writes the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--gan-epochs", type=int, default=5)
    parser.add_argument("--gan-train", type=int, default=768)
    parser.add_argument("--test", type=int, default=64)
    parser.add_argument("--calibration", type=int, default=200)
    parser.add_argument("--qat-steps", type=int, default=250, help="0: no fine-tuning table")
    parser.add_argument("--qat-rate", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--keep", help="folder that keeps the trained segmenters (reused)")
    args = parser.parse_args()
    chosen = set(filter(None, args.models.split(",")))
    lines = [
        "# int8 TFLite on trained models",
        "",
        f"Segmenters trained on the embedded `shapes` data ({args.train} training images, "
        f"{args.epochs} epochs, batch 8, cross-entropy, Adam 2e-3 with cosine decay, BatchNorm "
        "momentum 0.9 so that the moving statistics settle in a short run; this machine's CPU), "
        f"exported to full-integer int8 (float I/O) calibrated on {args.calibration} training "
        f"images, compared on {args.test} held-out test images.",
        "",
        f"Segmentation: `edge` presets at {args.size}x{args.size}, {CLASSES} classes. mIoU "
        "against the ground truth; agreement = share of pixels where int8 and float Keras "
        "take the same class. Margin: the float model's best minus second-best logit (median "
        "over the pixels int8 decides differently / over all pixels). 16x8: the same model "
        "with int16 activations and int8 weights (TFLite's reference kernels; XNNPACK takes "
        "none of it). Near boundary: share of the disagreeing pixels that are within 1 pixel "
        "of a class boundary of the float prediction; agreement beyond: over the other pixels.",
        "",
        "| model | training (s) | mIoU float | mIoU int8 | change | agreement | float top-2 "
        "margin: at disagreements / all | logit range | disagreements near a boundary | "
        "agreement beyond 1 px of a boundary | 16x8 agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    fine_tuned = [
        "",
        f"Fine-tuning each trained segmenter {args.qat_steps} more steps (Adam {args.qat_rate:g} "
        "with cosine decay, same data), from the same weights: in float (the control) and "
        "quantization-aware (`keras_segen.quantization_aware`: kernels rounded per channel, "
        "activations per tensor, straight-through gradients); then int8 as above. Change: int8 "
        "mIoU minus the trained model's float mIoU (before fine-tuning). Agreement: int8 "
        "against the fine-tuned float model; with the simulation: int8 against the "
        "fake-quantized Keras view.",
        "",
        "| model | fine-tuning | seconds | mIoU trained | mIoU float | mIoU int8 | change | "
        "agreement | agreement beyond 1 px of a boundary | agreement with the simulation |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as directory:
        for name in keras_segen.list_models("segmentation"):
            if not chosen or name in chosen:
                row, model, data = segmenter_row(name, args, directory)
                lines.append(row)
                print(row, flush=True)
                if args.qat_steps:
                    fine_tuned += fine_tuned_rows(name, model, data, args, directory)
                    print("\n".join(fine_tuned[-2:]), flush=True)
        if args.qat_steps:
            lines += fine_tuned
        header = [
            "",
            f"Generators trained {args.gan_epochs} epochs on {args.gan_train} images (DCGAN, "
            f"conditional, VAE at {GENERATOR_SIZE}x{GENERATOR_SIZE}; pix2pix at {args.size}x"
            f"{args.size} on `shapes_coloured` label maps), int8 calibrated on the comparison "
            "inputs: PSNR of the int8 output against the float output, images in [-1, 1].",
            "",
            "| model | output | training (s) | PSNR int8 vs float (dB) |",
            "|---|---|---|---|",
        ]
        lines += header
        print("\n".join(header), flush=True)
        for name in GENERATORS:
            if not chosen or name in chosen:
                lines.append(generator_row(name, args, directory))
                print(lines[-1], flush=True)
    publish(lines, RESULTS)


if __name__ == "__main__":
    main()
