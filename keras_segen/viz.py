"""Matplotlib figures: mask overlays, prediction grids, training curves, confusion matrices.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so they work on machines
without a display and never leak between calls.
"""

import numpy as np
from matplotlib.figure import Figure

_PALETTE = (
    np.array(
        [
            [0, 0, 0],
            [230, 25, 75],
            [60, 180, 75],
            [255, 225, 25],
            [0, 130, 200],
            [245, 130, 48],
            [145, 30, 180],
            [70, 240, 240],
            [240, 50, 230],
            [210, 245, 60],
            [250, 190, 212],
            [0, 128, 128],
            [220, 190, 255],
            [170, 110, 40],
            [255, 250, 200],
            [128, 0, 0],
            [170, 255, 195],
            [128, 128, 0],
            [255, 215, 180],
            [0, 0, 128],
        ],
        dtype=np.float32,
    )
    / 255.0
)
IGNORE_COLOUR = np.array([0.5, 0.5, 0.5], np.float32)


def class_palette(colours=None):
    """``(N, 3)`` float colours in [0, 1]: a dataset's own ``(r, g, b)`` 0-255 class colours
    (``DatasetInfo.class_colours``), or the default palette (class 0 black).

    Example:
        >>> keras_segen.viz.class_palette([(255, 0, 0), (0, 0, 255)]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
        >>> keras_segen.viz.class_palette()[0].tolist()  # the default: class 0 black
        [0.0, 0.0, 0.0]
    """
    if colours is None:
        return _PALETTE
    palette = np.asarray(colours, np.float32)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"colours must be (r, g, b) triples; got shape {palette.shape}.")
    return palette / 255.0


ANNOTATED_CLASSES = 25  # confusion matrices print their shares up to this many classes
BACKGROUND_NAMES = ("background", "_background_", "bg", "void", "unlabeled", "unlabelled", "0")


def drawing_colours(class_names=None, colours=None):
    """The class colours overlays and legends use: the dataset's own ``colours``, else the
    default palette, whose black class 0 is left undrawn; when class 0 is named and not
    background (``BACKGROUND_NAMES``), every class gets a visible colour instead.

    Example:
        >>> keras_segen.viz.drawing_colours(["background", "cat"]) is None  # default palette
        True
        >>> keras_segen.viz.drawing_colours(["sky", "road"])  # class 0 drawn too
        [(230, 25, 75), (60, 180, 75)]
    """
    if colours is not None:
        return colours
    if not class_names or str(class_names[0]).lower() in BACKGROUND_NAMES:
        return None
    return [
        tuple(int(round(c * 255)) for c in _PALETTE[1 + i % (len(_PALETTE) - 1)])
        for i in range(len(class_names))
    ]


def colorize_mask(mask, ignore_index=255, colours=None):
    """``HxW`` int mask -> ``HxWx3`` float colours (ignored pixels grey).

    Args:
        mask: class ids.
        ignore_index: the label drawn grey.
        colours: the dataset's class colours (0-255 ``(r, g, b)``), e.g. Cityscapes'
            official ones; by default a palette with class 0 black.

    Example:
        >>> rgb = keras_segen.viz.colorize_mask(np.array([[0, 2, 255]]))  # 255: ignored
        >>> (rgb[0] * 255).round().tolist()  # black, the class-2 green, grey
        [[0.0, 0.0, 0.0], [60.0, 180.0, 75.0], [128.0, 128.0, 128.0]]
        >>> rgb = keras_segen.viz.colorize_mask(np.array([[0, 1]]), colours=[(128, 64, 128),
        ...     (244, 35, 232)])  # Cityscapes road, sidewalk
        >>> (rgb[0] * 255).round().tolist()
        [[128.0, 64.0, 128.0], [244.0, 35.0, 232.0]]
    """
    mask = np.asarray(mask)
    palette = class_palette(colours)
    colours = palette[np.where(mask == ignore_index, 0, mask) % len(palette)]
    colours[mask == ignore_index] = IGNORE_COLOUR
    return colours


def overlay(image, mask, alpha=0.5, ignore_index=255, colours=None):
    """Blends the class colours of ``mask`` over ``image`` (float in [0, 1]); pixels of a
    class coloured black (the default class 0, VOC background) stay as they are.

    Example:
        >>> white = np.ones((1, 2, 3))
        >>> picture = keras_segen.viz.overlay(white, np.array([[0, 1]]), alpha=0.5)
        >>> picture[0].astype(float).round(3).tolist()  # half white, half (230, 25, 75) / 255
        [[1.0, 1.0, 1.0], [0.951, 0.549, 0.647]]
    """
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    painted = colorize_mask(mask, ignore_index, colours)
    weight = np.where(painted.any(axis=-1), alpha, 0.0)[..., None]
    return np.clip(image * (1 - weight) + painted * weight, 0, 1)


def plot_predictions(images, masks, predictions, class_names=None, ignore_index=255, colours=None):
    """One row per example: image | ground-truth overlay | predicted overlay.

    ``colours`` are the dataset's class colours (``DatasetInfo.class_colours``); without
    them, class 0 is drawn only when its name says it is not background
    (``drawing_colours``). The legend names the classes the figure shows.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2)
        >>> images, masks = next(iter(keras_segen.data.load_segmentation(
        ...     "shapes", image_size=32, batch_size=3, num_examples=3)))
        >>> predicted = keras_segen.metrics.predicted_labels(model(images))
        >>> figure = keras_segen.viz.plot_predictions(images, masks, predicted)
        >>> len(figure.axes)  # image | truth | prediction, for each of the 3 examples
        9
        >>> figure.savefig("predictions.png")
    """
    colours = drawing_colours(class_names, colours)
    rows = len(images)
    figure = Figure(figsize=(7.5, 2.5 * rows), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    for row in range(rows):
        panels = (
            ("image", images[row]),
            ("ground truth", overlay(images[row], masks[row], 0.5, ignore_index, colours)),
            ("prediction", overlay(images[row], predictions[row], 0.5, ignore_index, colours)),
        )
        for axis, (title, picture) in zip(axes[row], panels):
            axis.imshow(np.clip(picture, 0, 1), interpolation="nearest")
            axis.set_axis_off()
            if row == 0:
                axis.set_title(title)
    if class_names:
        palette = class_palette(colours)
        shown = set(np.unique(np.asarray(masks))) | set(np.unique(np.asarray(predictions)))
        handles = [
            _patch(palette[i % len(palette)], name)
            for i, name in enumerate(class_names)
            if i in shown and palette[i % len(palette)].any()
        ]
        if handles:
            figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6))
    return figure


def _patch(colour, label):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, label=label)


def plot_curves(history):
    """Loss and every other metric per epoch, train and validation side by side.

    Args:
        history: dict of metric name -> list of values (e.g. ``History.history``).

    Example:
        >>> history = {"loss": [1.0, 0.6], "val_loss": [1.1, 0.8],
        ...            "mean_iou": [0.3, 0.5], "val_mean_iou": [0.25, 0.4]}  # History.history
        >>> figure = keras_segen.viz.plot_curves(history)
        >>> [axis.get_title() for axis in figure.axes]  # training and validation in each
        ['loss', 'mean_iou']
        >>> figure.savefig("curves.png")
    """
    names = [key for key in history if not key.startswith("val_") and key not in ("epoch",)]
    figure = Figure(figsize=(5 * len(names), 3.5), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for axis, name in zip(axes, names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    return figure


def plot_confusion_matrix(matrix, class_names=None):
    """Row-normalised confusion matrix (rows: true class); each cell's share is printed when
    there are at most ``ANNOTATED_CLASSES`` classes. The figure stays under 20 inches a side
    (ADE20K's 150 classes would otherwise make an 18,000-pixel image).

    Example:
        >>> matrix = [[1.0, 1.0], [0.0, 2.0]]  # rows: true class, columns: predicted
        >>> figure = keras_segen.viz.plot_confusion_matrix(matrix, ["background", "circle"])
        >>> figure.savefig("confusion.png")
    """
    matrix = np.asarray(matrix, np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    count = len(matrix)
    names = list(class_names) if class_names else [str(i) for i in range(count)]
    cell = min(1.2, 16 / count)
    figure = Figure(figsize=(cell * count + 2, cell * count + 1.5), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    if count <= ANNOTATED_CLASSES:
        for i in range(count):
            for j in range(count):
                colour = "white" if shares[i, j] > 0.5 else "black"
                axis.text(j, i, f"{shares[i, j]:.2f}", ha="center", va="center", color=colour)
    size = min(10, max(4, 100 * cell / 1.2 / 10))
    axis.set_xticks(range(count), names, rotation=45 if count <= 30 else 90, ha="right",
                    fontsize=size)  # fmt: skip
    axis.set_yticks(range(count), names, fontsize=size)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def plot_class_histogram(class_pixels, class_names, colours=None):
    """Bar chart of pixels per class, one group of bars per split (log scale).

    Args:
        class_pixels: ``{split: pixels per class}`` (e.g. ``DataReport.class_pixels``).
        class_names: the class names.
        colours: the dataset's class colours (0-255 ``(r, g, b)``); bars of the first split
            take them.

    Example:
        >>> figure = keras_segen.viz.plot_class_histogram(
        ...     {"train": [900, 80, 20], "validation": [95, 4, 1]}, ["road", "car", "person"])
        >>> figure.axes[0].get_yscale(), len(figure.axes[0].patches)  # 3 classes x 2 splits
        ('log', 6)
        >>> figure.savefig("class_histogram.png")
    """
    names = list(class_names)
    figure = Figure(figsize=(max(5.0, 0.35 * len(names) + 2), 4), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(names))
    width = 0.8 / max(len(class_pixels), 1)
    palette = class_palette(colours)
    for index, (split, counts) in enumerate(class_pixels.items()):
        counts = np.asarray(counts, np.float64)
        colour = [palette[i % len(palette)] for i in range(len(names))] if index == 0 else None
        axis.bar(
            positions + index * width, np.maximum(counts, 0.5), width, label=split, color=colour,
            edgecolor="black", linewidth=0.5, alpha=1.0 if index == 0 else 0.5,
        )  # fmt: skip
    axis.set_yscale("log")
    axis.set_xticks(positions + width * (len(class_pixels) - 1) / 2, names, rotation=60,
                    ha="right", fontsize=8)  # fmt: skip
    axis.set_ylabel("pixels")
    axis.legend()
    return figure


def image_grid(images, columns=None, value_range=(-1.0, 1.0)):
    """A grid figure of generated images (``(N, H, W, C)``, values in ``value_range``).

    Example:
        >>> generator = keras_segen.dcgan_generator(64, (32, 32, 3), filters=16)
        >>> figure = keras_segen.viz.image_grid(generator(keras.random.normal((6, 64))), columns=3)
        >>> len(figure.axes)  # 2 rows of 3
        6
        >>> figure.savefig("samples.png")
    """
    images = np.asarray(images, np.float32)
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    count = len(images)
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    figure = Figure(figsize=(1.5 * columns, 1.5 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index < count:
            picture = images[index]
            axis.imshow(
                picture[..., 0] if picture.shape[-1] == 1 else picture,
                cmap="gray" if picture.shape[-1] == 1 else None,
                vmin=0,
                vmax=1,
            )
    return figure


def side_by_side(columns, value_range=(-1.0, 1.0)):
    """One row per example, one titled column per image set (e.g. label map | generated | real).

    Args:
        columns: ``{title: images (N, H, W, C)}``, every set with the same N; values in
            ``value_range`` (int label maps ``(N, H, W)`` are coloured with ``colorize_mask``).
        value_range: range of the float images.

    Example:
        >>> masks = np.zeros((2, 16, 16), "int32")  # label maps are coloured
        >>> fake, real = np.zeros((2, 16, 16, 3)), np.ones((2, 16, 16, 3))  # in [-1, 1]
        >>> figure = keras_segen.viz.side_by_side({"labels": masks, "pix2pix": fake, "real": real})
        >>> len(figure.axes)  # 2 rows of 3
        6
    """
    low, high = value_range
    prepared = {}
    for title, images in columns.items():
        images = np.asarray(images)
        if images.ndim == 3 or (images.ndim == 4 and np.issubdtype(images.dtype, np.integer)):
            images = np.stack([colorize_mask(mask.squeeze()) for mask in images])
        else:
            images = np.clip((images.astype(np.float32) - low) / (high - low), 0.0, 1.0)
        prepared[title] = images
    counts = {len(images) for images in prepared.values()}
    if len(counts) != 1:
        raise ValueError(f"Every column needs the same number of images; got {sorted(counts)}.")
    rows = counts.pop()
    figure = Figure(figsize=(2 * len(prepared), 2 * rows), layout="constrained")
    axes = figure.subplots(rows, len(prepared), squeeze=False)
    for column, (title, images) in enumerate(prepared.items()):
        axes[0, column].set_title(title)
        for row in range(rows):
            picture = images[row]
            axes[row, column].imshow(
                picture[..., 0] if picture.shape[-1] == 1 else picture,
                cmap="gray" if picture.shape[-1] == 1 else None,
                vmin=0,
                vmax=1,
            )
            axes[row, column].set_axis_off()
    return figure


SCENE_STAGES = {
    "image": "image",
    "label_map": "label map",
    "edited_label_map": "edited map",
    "generated": "generated",
    "alpha": "blend mask",
    "composite": "composite",
}


def plot_scene_stages(stages):
    """One row per ``edit_scene`` result: image, label map, edited map, generated, mask, composite.

    Args:
        stages: a dict returned by ``keras_segen.pipelines.edit_scene``, or a list of them.

    Example:
        >>> image, label_map = keras_segen.data.shapes_example(0, image_size=32)
        >>> stages = dict(image=image, label_map=label_map, generated=image, composite=image,
        ...     edited_label_map=keras_segen.pipelines.remove_classes(label_map, [1, 2, 3]),
        ...     alpha=np.zeros((32, 32)))  # as keras_segen.pipelines.edit_scene returns them
        >>> keras_segen.viz.plot_scene_stages([stages, stages]).savefig("scenes.png")
    """
    stages = [stages] if isinstance(stages, dict) else list(stages)
    columns = {
        title: np.stack([np.asarray(stage[key]) for stage in stages])
        for key, title in SCENE_STAGES.items()
    }
    columns["blend mask"] = columns["blend mask"][..., None]
    return side_by_side(columns, value_range=(0.0, 1.0))
