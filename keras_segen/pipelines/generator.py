"""Running a label-map -> image generator on sparse label maps of any size."""

import keras
import numpy as np

from keras_segen.data.arrays import bilinear, resize_masks
from keras_segen.inference import predict_batch
from keras_segen.trainers.pix2pix import Pix2Pix


def label_to_image_generator(generator):
    """``(network, num_classes)`` of a ``Pix2Pix`` trainer or a bare one-hot -> image model.

    Example:
        >>> pix2pix = keras_segen.Pix2Pix(
        ...     keras_segen.pix2pix_generator((32, 32, 4), filters=8),
        ...     keras_segen.patchgan_discriminator((32, 32, 4), filters=8), num_classes=4)
        >>> network, num_classes = keras_segen.pipelines.label_to_image_generator(pix2pix)
        >>> network is pix2pix.generator, num_classes
        (True, 4)
    """
    if isinstance(generator, Pix2Pix):
        if generator.num_classes is None:
            raise ValueError(
                "This Pix2Pix translates images (num_classes=None); label -> image synthesis "
                "needs one trained on label maps (Pix2Pix(..., num_classes=K))."
            )
        return generator.generator, generator.num_classes
    if not isinstance(generator, keras.Model) or len(generator.inputs) != 1:
        raise ValueError(
            "generator must be a Pix2Pix trainer or a keras.Model taking one one-hot label "
            f"map; got {type(generator).__name__}."
        )
    return generator, generator.inputs[0].shape[-1]


def generate_from_label_maps(generator, label_maps, batch_size=16, ignore_index=255):
    """Images in [0, 1] generated from sparse label maps ``(B, H, W)``.

    Label maps are resized (nearest) to a generator with a fixed input size and the images
    resized back (bilinear); ``ignore_index`` pixels become all-zero one-hot vectors.

    Args:
        generator: a label -> image ``Pix2Pix`` or its generator network.
        label_maps: int ``(B, H, W)``.
        batch_size: maps per generator call.
        ignore_index: label-map value that is not a class.

    Returns:
        float32 NumPy ``(B, H, W, 3)`` in [0, 1].

    Example:
        >>> one_hot = keras.Input((None, None, 2))
        >>> paint = keras.layers.Conv2D(3, 1, use_bias=False)
        >>> generator = keras.Model(one_hot, paint(one_hot))  # a stand-in for a pix2pix
        >>> paint.set_weights([np.array([[-1.0] * 3, [1.0] * 3]).reshape(1, 1, 2, 3)])
        >>> images = keras_segen.pipelines.generate_from_label_maps(generator, [[[0, 1]]])
        >>> images.shape, images[0, 0, :, 0].tolist()  # class 0 black, class 1 white, in [0, 1]
        ((1, 1, 2, 3), [0.0, 1.0])
    """
    network, num_classes = label_to_image_generator(generator)
    label_maps = np.asarray(label_maps)
    if label_maps.ndim != 3:
        raise ValueError(f"label_maps must be (B, H, W); got shape {label_maps.shape}.")
    classes = set(np.unique(label_maps).tolist()) - {ignore_index}
    if classes and (min(classes) < 0 or max(classes) >= num_classes):
        raise ValueError(
            f"label_maps hold classes {sorted(classes)}; the generator knows 0..{num_classes - 1}."
        )
    height, width = label_maps.shape[1:]
    fixed = tuple(network.inputs[0].shape[1:3])
    # One-hot rows, plus an all-zero row for ignore_index (or any label outside the classes).
    rows = np.concatenate([np.eye(num_classes), np.zeros((1, num_classes))]).astype("float32")
    images = []
    for start in range(0, len(label_maps), batch_size):
        maps = label_maps[start : start + batch_size].astype("int32")
        if None not in fixed and fixed != (height, width):
            maps = resize_masks(maps, fixed)
        one_hot = rows[np.where((maps >= 0) & (maps < num_classes), maps, num_classes)]
        generated = predict_batch(network, one_hot)
        generated = generated.astype("float32")
        if generated.shape[1:3] != (height, width):
            generated = bilinear(generated, (height, width))
        images.append(np.clip((generated + 1.0) / 2.0, 0.0, 1.0))
    return np.concatenate(images).astype("float32")
