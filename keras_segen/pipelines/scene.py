"""Segment -> edit the label map -> generate -> composite (semantic image editing).

The label map of an image is predicted by a segmenter, edited (classes replaced or
removed, regions pasted), turned into an image by a label -> image generator (pix2pix)
and the generated pixels are blended into the original only where the map changed, with
a soft margin so the seam does not show.
"""

import os

import keras
import numpy as np
from PIL import Image

from keras_segen.data.arrays import bilinear, resize_masks
from keras_segen.data.files import read_image
from keras_segen.inference import predict_batch
from keras_segen.metrics import predicted_labels
from keras_segen.pipelines.generator import generate_from_label_maps


def _check_image(image):
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be (H, W, 3) in [0, 1]; got shape {image.shape}.")
    if image.min() < 0 or image.max() > 1:
        raise ValueError(
            f"image values must be in [0, 1]; got [{image.min():.3g}, {image.max():.3g}]."
        )
    return image


def _check_label_map(label_map, name="label_map"):
    label_map = np.asarray(label_map)
    if label_map.ndim != 2 or not np.issubdtype(label_map.dtype, np.integer):
        raise ValueError(
            f"{name} must be an integer (H, W) array; got {label_map.dtype} {label_map.shape}."
        )
    return label_map


def segment(segmenter, image):
    """The label map ``(H, W)`` a segmenter predicts for one image ``(H, W, 3)`` in [0, 1].

    A segmenter with a fixed input size gets the image resized (bilinear) and its map is
    resized back (nearest).

    Example:
        >>> segmenter = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Identity()])
        >>> image = np.zeros((2, 4, 3), "float32")  # logits = colours: class = brightest channel
        >>> image[:, :2, 0], image[:, 2:, 2] = 1.0, 1.0  # red left half, blue right half
        >>> keras_segen.pipelines.segment(segmenter, image).tolist()
        [[0, 0, 2, 2], [0, 0, 2, 2]]
    """
    image = _check_image(image)
    fixed = tuple(segmenter.inputs[0].shape[1:3])
    batch = image[None].astype("float32")
    if None not in fixed and fixed != image.shape[:2]:
        batch = bilinear(batch, fixed)
    scores = predict_batch(segmenter, batch)
    label_map = keras.ops.convert_to_numpy(predicted_labels(scores))  # argmax; 1 channel: > 0
    if label_map.shape[1:3] != image.shape[:2]:
        label_map = resize_masks(label_map, image.shape[:2])
    return label_map[0].astype("int32")


def replace_classes(label_map, mapping):
    """A copy of ``label_map`` with every class ``a`` in ``mapping`` replaced by ``mapping[a]``.

    Replacements are simultaneous, so ``{1: 2, 2: 1}`` swaps two classes.

    Example:
        >>> label_map = np.array([[0, 1, 2], [2, 1, 0]])
        >>> keras_segen.pipelines.replace_classes(label_map, {1: 2, 2: 1}).tolist()  # a swap
        [[0, 2, 1], [1, 2, 0]]
    """
    label_map = _check_label_map(label_map)
    edited = label_map.copy()
    for old, new in mapping.items():
        edited[label_map == old] = new
    return edited


def remove_classes(label_map, classes, fill=0):
    """A copy of ``label_map`` where the listed classes become ``fill`` (the background).

    Example:
        >>> label_map = np.array([[0, 1, 2], [2, 1, 0]])
        >>> keras_segen.pipelines.remove_classes(label_map, [2]).tolist()
        [[0, 1, 0], [0, 1, 0]]
    """
    return replace_classes(label_map, {int(c): fill for c in classes})


def paste_region(label_map, source, classes=None, offset=(0, 0), background=0):
    """Pastes the pixels of ``source`` (of ``classes``, default all but ``background``) onto
    ``label_map``, translated by ``offset = (dy, dx)``; what falls outside is cut off.

    ``source`` may be ``label_map`` itself (duplicate an object elsewhere) or another map.

    Example:
        >>> label_map = np.zeros((3, 5), "int32")
        >>> label_map[1, 0] = 1
        >>> keras_segen.pipelines.paste_region(label_map, label_map, [1], (0, 2)).tolist()
        [[0, 0, 0, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    """
    label_map = _check_label_map(label_map)
    source = _check_label_map(source, "source")
    if source.shape != label_map.shape:
        raise ValueError(f"source {source.shape} and label_map {label_map.shape} differ in size.")
    selected = source != background if classes is None else np.isin(source, list(classes))
    dy, dx = (int(value) for value in offset)
    height, width = label_map.shape
    edited = label_map.copy()
    rows, cols = np.nonzero(selected)
    rows, cols, values = rows + dy, cols + dx, source[selected]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    edited[rows[inside], cols[inside]] = values[inside]
    return edited


def blend_mask(before, after, margin=2):
    """Alpha in [0, 1] for compositing: 1 where the map changed, fading to 0 over ``margin`` px.

    Example:
        >>> before = np.zeros((1, 9), "int32")
        >>> after = before.copy()
        >>> after[0, 4] = 1
        >>> alpha = keras_segen.pipelines.blend_mask(before, after, margin=1)
        >>> alpha[0].astype(float).round(4).tolist()
        [0.0, 0.0, 0.3333, 0.6667, 1.0, 0.6667, 0.3333, 0.0, 0.0]
    """
    changed = (np.asarray(before) != np.asarray(after)).astype(np.float32)
    if margin <= 0:
        return changed
    grown = _window_filter(changed, margin, np.max, -np.inf)
    # 'SAME' averaging over the cells inside the image only (as tf.nn.avg_pool2d)
    total = _window_filter(grown, margin, np.sum, 0.0)
    count = _window_filter(np.ones_like(grown), margin, np.sum, 0.0)
    return np.maximum(total / count, changed)


def _window_filter(values, margin, reduce, pad_value):
    """``reduce`` over the ``(2 margin + 1)``-square window around every pixel."""
    padded = np.pad(values, margin, constant_values=pad_value)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * margin + 1,) * 2)
    return reduce(windows, axis=(-2, -1)).astype(np.float32)


def composite(image, generated, alpha):
    """``alpha * generated + (1 - alpha) * image`` per pixel.

    Example:
        >>> image, generated = np.zeros((1, 3, 3)), np.ones((1, 3, 3))
        >>> keras_segen.pipelines.composite(image, generated, [[0.0, 0.25, 1.0]])[..., 0].tolist()
        [[0.0, 0.25, 1.0]]
    """
    alpha = np.asarray(alpha, np.float32)[..., None]
    return alpha * np.asarray(generated, np.float32) + (1.0 - alpha) * _check_image(image)


def edit_scene(image, segmenter, generator, edits=(), margin=2, label_map=None):
    """Runs the whole pipeline on one image and returns every stage.

    Args:
        image: ``(H, W, 3)`` float in [0, 1].
        segmenter: a segmentation model (logits); unused when ``label_map`` is given.
        generator: a label -> image ``Pix2Pix`` trainer or its generator network.
        edits: functions ``label_map -> label_map`` applied in turn, e.g.
            ``functools.partial(replace_classes, mapping={1: 2})``.
        margin: width in pixels of the soft seam around the changed region.
        label_map: a known label map to start from instead of segmenting.

    Returns:
        A dict of NumPy arrays: ``image``, ``label_map``, ``edited_label_map``,
        ``generated`` (the whole image generated from the edited map, [0, 1]), ``alpha``
        (where generated pixels are used) and ``composite``.

    Example:
        >>> segmenter = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Identity()])
        >>> one_hot = keras.Input((None, None, 3))
        >>> paint = keras.layers.Conv2D(3, 1, use_bias=False)
        >>> generator = keras.Model(one_hot, paint(one_hot))
        >>> paint.set_weights([(2 * np.eye(3) - 1).reshape(1, 1, 3, 3)])  # class k: colour k
        >>> image = np.zeros((2, 4, 3), "float32")
        >>> image[:, :2, 0], image[:, 2:, 2] = 1.0, 1.0  # red (class 0) | blue (class 2)
        >>> import functools
        >>> blue_to_green = functools.partial(keras_segen.pipelines.replace_classes, mapping={2: 1})
        >>> stages = keras_segen.pipelines.edit_scene(
        ...     image, segmenter, generator, [blue_to_green], margin=0)
        >>> stages["edited_label_map"][0].tolist(), stages["composite"][0].tolist()
        ([0, 0, 1, 1], [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
        >>> keras_segen.viz.plot_scene_stages(stages).savefig("scene.png")
    """
    image = _check_image(image)
    label_map = segment(segmenter, image) if label_map is None else _check_label_map(label_map)
    edited = label_map
    for edit in edits:
        edited = _check_label_map(edit(edited), "an edit's result")
    generated = generate_from_label_maps(generator, edited[None])[0]
    alpha = blend_mask(label_map, edited, margin)
    return {
        "image": image,
        "label_map": label_map,
        "edited_label_map": edited,
        "generated": generated,
        "alpha": alpha,
        "composite": composite(image, generated, alpha),
    }


def _load_image(path):
    if not os.path.isfile(path):
        raise ValueError(f"image {path} does not exist.")
    return read_image(str(path)).astype(np.float32) / 255.0


def edit_scene_files(
    segmenter,
    generator,
    out="scene.png",
    image=None,
    dataset=None,
    index=0,
    replace=None,
    remove=(),
    paste=(),
    margin=2,
):
    """``keras-segen edit-scene``: runs ``edit_scene`` from run directories or ``.keras`` files.

    Edits are applied in this order: ``replace`` (all pairs at once), ``remove``, then
    each ``paste``. Writes the stage figure to ``out`` and the composite next to it
    (``<out stem>_composite.png``).

    Args:
        segmenter: segmentation run directory or ``.keras`` model.
        generator: label -> image pix2pix run directory or ``.keras`` trainer.
        out: PNG path of the figure.
        image: an image file; default: example ``index`` of the test split of ``dataset``.
        dataset: where the default image comes from (default: the generator run's dataset).
        index: which test example.
        replace: ``{old class: new class}``.
        remove: classes to turn into background (0).
        paste: ``(class, dy, dx)`` triples: copy that class's region, shifted.
        margin: soft seam width in pixels.

    Returns:
        The stages dict of ``edit_scene``.

    Example:
        >>> report = keras_segen.train("unet", "shapes_coloured", epochs=1, image_size=32,
        ...     num_examples=16, validation_examples=8, model_kwargs={"filters": 8, "depth": 2},
        ...     out="runs/unet", verbose=0)
        >>> history = keras_segen.train_generation("pix2pix", "shapes_coloured", epochs=1,
        ...     image_size=32, num_examples=16, filters=8, out="runs/pix2pix", verbose=0)
        >>> stages = keras_segen.pipelines.edit_scene_files(
        ...     "runs/unet", "runs/pix2pix", out="scene.png", remove=[2])
        >>> import os
        >>> stages["image"].shape, sorted(name for name in os.listdir() if name.endswith(".png"))
        ((32, 32, 3), ['scene.png', 'scene_composite.png'])
    """
    from keras_segen.data import load_segmentation
    from keras_segen.runs.files import load_run_or_model

    segmenter_model, segmenter_config = load_run_or_model(segmenter)
    generator_model, generator_config = load_run_or_model(generator)
    if image is not None:
        picture = _load_image(image)
    else:
        dataset = dataset or generator_config.get("dataset") or segmenter_config.get("dataset")
        if dataset is None:
            raise ValueError("Give an image, or dataset=... to take a test image from.")
        size = segmenter_config.get("image_size") or generator_config.get("image_size") or 128
        examples = load_segmentation(
            dataset, "test", size, batch_size=None, shuffle=False, num_examples=index + 1
        )
        pairs = list(examples.skip(index).take(1))
        if not pairs:
            raise ValueError(f"{dataset} has no test example {index}.")
        picture = pairs[0][0].numpy()
    edits = []
    if replace:
        edits.append(lambda labels: replace_classes(labels, replace))
    if remove:
        edits.append(lambda labels: remove_classes(labels, remove))
    for cls, dy, dx in paste:
        edits.append(
            lambda labels, cls=cls, dy=dy, dx=dx: paste_region(labels, labels, [cls], (dy, dx))
        )
    stages = edit_scene(picture, segmenter_model, generator_model, edits, margin)
    from keras_segen import viz

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    viz.plot_scene_stages(stages).savefig(out, dpi=100)
    pixels = np.round(np.clip(stages["composite"], 0, 1) * 255).astype(np.uint8)
    composite_path = os.path.splitext(out)[0] + "_composite.png"
    Image.fromarray(pixels).save(composite_path)
    return stages
