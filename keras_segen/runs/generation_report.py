"""What a generation run reports at its end: FID of its samples against held-out images,
and pix2pix's paired L1, PSNR and SSIM."""

import os

import numpy as np

from keras_segen import metrics
from keras_segen.inference import predict_batch
from keras_segen.runs.config_fields import FID_FEATURES, check_choice

SHAPES_SOURCES = ("shapes", "shapes_coloured")
FID_IMAGES = 1000
# Keras' cache name of the InceptionV3 no-top ImageNet weights (keras.applications).
INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


def inception_weights_cached():
    """Whether Keras' cache holds InceptionV3's ImageNet no-top weights (no download)."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.exists(os.path.join(home, "models", INCEPTION_WEIGHTS))


def fid_extractor(features, dataset):
    """``(FeatureExtractor or None, lines to print)`` for a run's end-of-run FID.

    ``features``: ``"shapes"``, ``"inception"`` (downloads the ImageNet weights now, before
    training, when they are not cached), ``"none"``, or ``"auto"``: shapes features on the
    embedded shapes data, else InceptionV3 when its weights are cached, else none.

    Example:
        >>> extractor, said = keras_segen.runs.fid_extractor("none", "shapes")
        >>> extractor, said
        (None, [])
    """
    check_choice("fid", features, FID_FEATURES)
    if features == "auto":
        if dataset in SHAPES_SOURCES:
            features = "shapes"
        elif inception_weights_cached():
            features = "inception"
        else:
            return None, [
                f"no FID at the end: InceptionV3's ImageNet weights are not in Keras' cache "
                f"({INCEPTION_WEIGHTS}); --fid inception downloads them, --fid shapes uses "
                "offline features of shapes-like images"
            ]
    if features == "none":
        return None, []
    if features == "shapes":
        return metrics.shapes_extractor(), []
    return metrics.inception_extractor("imagenet"), []


def end_of_run_fid(trainer, held_out, extractor, seed=0, num_images=FID_IMAGES):
    """``sample_fid`` of ``trainer`` against up to ``num_images`` held-out examples, as the
    ``fid*`` and ``kid`` entries of ``metrics.json``."""
    report = metrics.sample_fid(trainer, held_out, num_images, seed=seed, extractor=extractor)
    return {
        "fid": report["fid"],
        "kid": report["kid"],
        "fid_images": report["real_images"],
        "fid_features": report["feature_extractor"],
        "fid_comparable_with_published": report["comparable_with_published_fid"],
    }


def describe_fid(report):
    """One line for the end of a run: the FID, how many images, which features."""
    note = "" if report["fid_comparable_with_published"] else "; not comparable with published FID"
    return (
        f"FID {report['fid']:.3f} (lower is better) of {report['fid_images']} samples against "
        f"as many held-out images, features: {report['fid_features']}{note}"
    )


def paired_report(pix2pix, dataset):
    """Held-out L1, PSNR and SSIM (images in [-1, 1]) of a ``Pix2Pix`` on ``(source, target)``.

    Example:
        >>> pix2pix = keras_segen.Pix2Pix(
        ...     keras_segen.pix2pix_generator((32, 32, 4), filters=8),
        ...     keras_segen.patchgan_discriminator((32, 32, 4), filters=8), num_classes=4)
        >>> pairs = keras_segen.data.load_segmentation("shapes", "test", 32, num_examples=8)
        >>> masks_and_images = pairs.map(lambda image, mask: (mask, image * 2 - 1))
        >>> report = keras_segen.runs.paired_report(pix2pix, masks_and_images)
        >>> sorted(report), report["images"]  # untrained: low PSNR and SSIM
        (['images', 'l1', 'psnr', 'ssim'], 8)
    """
    generated, targets = [], []
    for sources, images in dataset:
        generated.append(predict_batch(pix2pix, sources))
        targets.append(np.asarray(images))
    generated, targets = np.concatenate(generated), np.concatenate(targets)
    return {
        "l1": float(np.mean(np.abs(generated - targets))),
        "psnr": metrics.psnr(generated, targets),
        "ssim": metrics.ssim(generated, targets),
        "images": len(targets),
    }

