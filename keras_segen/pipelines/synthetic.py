"""GAN-made training data: label maps -> generated images -> (image, mask) pairs.

New label maps come from real ones (``keras_segen.data.perturb_label_maps``: flips,
shifts and objects pasted from other maps), a label -> image pix2pix generator paints
them, and the pairs are written as a folder that ``load_segmentation`` reads, ready to be
mixed into a segmentation run at a chosen ratio (``train(..., synthetic=folder,
synthetic_ratio=0.5)``).
"""

import os

import numpy as np
from PIL import Image

from keras_segen.data import load_segmentation
from keras_segen.data.street_drawing import STREET_PERTURBATION
from keras_segen.pipelines.generator import generate_from_label_maps, label_to_image_generator
from keras_segen.runs.checkpoint import write_json
from keras_segen.runs.files import load_run_or_model


def synthetic_pairs(generator, label_maps, num, seed=0, perturb=True, batch_size=16):
    """``num`` generated ``(images, masks)`` from (perturbed) copies of ``label_maps``.

    Args:
        generator: a label -> image ``Pix2Pix`` or its generator network.
        label_maps: int ``(N, H, W)`` real label maps to start from.
        num: number of pairs.
        seed: seed of the perturbations (maps are cycled through in order).
        perturb: apply ``perturb_label_maps`` (``True``, or a dict of its options, e.g.
            ``keras_segen.data.STREET_PERTURBATION``); ``False`` repaints the maps unchanged.
        batch_size: maps per generator call.

    Returns:
        ``(images float32 (num, H, W, 3) in [0, 1], masks int32 (num, H, W))``.

    Example:
        >>> one_hot = keras.Input((None, None, 4))
        >>> generator = keras.Model(one_hot, keras.layers.Conv2D(3, 1, activation="tanh")(one_hot))
        >>> _, real_masks = next(iter(keras_segen.data.load_segmentation(
        ...     "shapes", image_size=32, batch_size=4, num_examples=4)))
        >>> images, masks = keras_segen.pipelines.synthetic_pairs(generator, real_masks, 10)
        >>> images.shape, masks.shape, set(np.unique(masks)) <= set(np.unique(real_masks))
        ((10, 32, 32, 3), (10, 32, 32), True)
    """
    label_maps = np.asarray(label_maps, np.int32)
    if label_maps.ndim != 3 or len(label_maps) == 0:
        raise ValueError(f"label_maps must be a non-empty (N, H, W) array; got {label_maps.shape}.")
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be a positive integer; got {num!r}.")
    masks = label_maps[np.arange(num) % len(label_maps)]
    if perturb:
        from keras_segen.data.mixing import perturb_label_maps  # TensorFlow ops

        options = {} if perturb is True else dict(perturb)
        masks = np.concatenate([
            perturb_label_maps(masks[start : start + batch_size], seed=seed + start,
                               **options).numpy()
            for start in range(0, num, batch_size)
        ])  # fmt: skip
    return generate_from_label_maps(generator, masks, batch_size), masks


def write_pairs(images, masks, out):
    """Writes ``out/images/NNNNN.png`` and ``out/masks/NNNNN.png``: a ``load_segmentation`` folder.

    Example:
        >>> images, masks = np.zeros((2, 8, 8, 3)), np.ones((2, 8, 8), "int32")
        >>> keras_segen.pipelines.write_pairs(images, masks, "synthetic")
        >>> import os
        >>> sorted(os.listdir("synthetic/images")), sorted(os.listdir("synthetic/masks"))
        (['00000.png', '00001.png'], ['00000.png', '00001.png'])
        >>> data = keras_segen.data.load_segmentation("synthetic", image_size=8, num_classes=2)
        >>> [mask.shape for _, mask in data]
        [TensorShape([2, 8, 8])]
    """
    for folder in ("images", "masks"):
        path = os.path.join(out, folder)
        if os.path.isdir(path) and os.listdir(path):
            raise ValueError(
                f"{path} already holds files; write generated pairs into an empty folder so "
                "old and new pairs are not mixed."
            )
        os.makedirs(path, exist_ok=True)
    for index, (image, mask) in enumerate(zip(images, masks)):
        name = f"{index:05d}.png"
        pixels = np.round(np.clip(np.asarray(image, "float32"), 0, 1) * 255).astype("uint8")
        Image.fromarray(pixels).save(os.path.join(out, "images", name))
        Image.fromarray(np.asarray(mask).astype("uint8")).save(os.path.join(out, "masks", name))


def synthesize(generator, out, num=500, dataset=None, num_examples=None, seed=0, perturb=True):
    """Writes ``num`` generated pairs from a pix2pix run (or ``.keras``) into the folder ``out``.

    The starting label maps are the ``train`` split of ``dataset``, resized to the
    generator's input size; by default the run's own dataset and training subset, so the
    pairs use no labels the generator did not see.

    Args:
        generator: a label -> image pix2pix run directory or ``.keras`` trainer file.
        out: folder to write (``images/``, ``masks/``, ``synthetic.json``).
        num: number of pairs.
        dataset: source of the label maps (see ``load_segmentation``).
        num_examples: how many real label maps to start from (default with the run's
            dataset: the run's ``num_examples``).
        seed: seed of the perturbations.
        perturb: perturb the label maps (``perturb_label_maps``; ``True`` takes
            ``STREET_PERTURBATION`` for ``streets``: left-right flips, objects pasted).

    Returns:
        ``out``.

    Example:
        >>> history = keras_segen.train_generation("pix2pix", "shapes_coloured", epochs=1,
        ...     image_size=32, num_examples=16, filters=8, out="runs/pix2pix", verbose=0)
        >>> keras_segen.pipelines.synthesize("runs/pix2pix", "synthetic", num=20)
        'synthetic'
        >>> import os
        >>> len(os.listdir("synthetic/images")), len(os.listdir("synthetic/masks"))
        (20, 20)
    """
    trainer, config = load_run_or_model(generator)
    network, num_classes = label_to_image_generator(trainer)
    if dataset is None:  # the run's own data, and the labelled subset it was trained on
        dataset = config.get("dataset")
        num_examples = num_examples or config.get("num_examples")
    if dataset is None:
        raise ValueError("A .keras generator needs dataset=... to take label maps from.")
    size = tuple(network.inputs[0].shape[1:3])
    if None in size:
        size = config.get("image_size") or 128
    maps = load_segmentation(
        dataset, "train", size, batch_size=None, shuffle=False, num_classes=num_classes,
        num_examples=num_examples, seed=config.get("seed", 0),
    )  # fmt: skip
    label_maps = np.stack([mask.numpy() for _, mask in maps])
    if perturb is True and dataset == "streets":
        perturb = STREET_PERTURBATION
    images, masks = synthetic_pairs(trainer, label_maps, num, seed=seed, perturb=perturb)
    write_pairs(images, masks, out)
    write_json(
        {"generator": str(generator), "dataset": str(dataset), "label_maps": len(label_maps),
         "pairs": num, "seed": seed, "perturb": perturb},
        os.path.join(out, "synthetic.json"),
    )  # fmt: skip
    return out
