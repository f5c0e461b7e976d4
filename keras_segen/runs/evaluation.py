"""Evaluating and applying trained segmenters: reports, full-resolution scores, masks."""

import pathlib
import time

import numpy as np

from keras_segen import metrics, viz
from keras_segen.data import load_segmentation
from keras_segen.data.files import IMAGE_SUFFIXES, DataFileError, is_hidden, read_image
from keras_segen.data.preprocessing import image_size_pair
from keras_segen.data.sources import data_errors_named
from keras_segen.inference import predict_batch, segment_image, uses_tiles
from keras_segen.runs.checkpoint import write_json
from keras_segen.runs.files import load_run_or_model, read_run
from keras_segen.runs.splits import ROLES, load_role


def evaluate_model(
    model, dataset, num_classes, class_names=None, ignore_index=255, full_resolution=None
):
    """Streams ``dataset`` through ``model``: ``segmentation_report`` plus ``confusion_matrix``.

    Args:
        model: a segmentation model.
        dataset: batches of ``(images, masks)``; with ``full_resolution``, single
            examples at their own size (``load_segmentation(..., image_size=None,
            batch_size=None)``).
        num_classes: number of classes.
        class_names: names for the report.
        ignore_index: label that is not scored.
        full_resolution: ``None``, or the keyword arguments of
            ``keras_segen.inference.segment_image`` (``input_size``, ``mode``, ``overlap``,
            ``scale``): each image is segmented at its own size and scored against its
            mask as stored.

    Example:
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2)
        >>> test_data = keras_segen.data.load_segmentation("shapes", "test", 32, num_examples=8)
        >>> report = keras_segen.evaluate_model(model, test_data, num_classes=4)
        >>> sorted(report)
        ['confusion_matrix', 'images', 'mean_dice', 'mean_iou', 'mean_precision', 'mean_recall',
         'per_class', 'pixel_accuracy', 'seconds']
    """
    metric = metrics.MeanIoU(num_classes, ignore_index=ignore_index)
    start = time.perf_counter()
    count = 0
    with data_errors_named():
        for images, masks in dataset:
            if full_resolution is None:
                metric.update_state(masks, predict_batch(model, images))
                count += int(images.shape[0])
                continue
            logits = segment_image(model, images.numpy(), **full_resolution)
            metric.update_state(masks.numpy()[None], logits[None])
            count += 1
    if count == 0:
        raise ValueError("The evaluation dataset is empty.")
    report = metric.report(class_names)
    report["confusion_matrix"] = metric.counts().tolist()
    report["images"] = count
    report["seconds"] = round(time.perf_counter() - start, 2)
    return report


def format_report(report):
    """The per-class table of a report as text.

    Example:
        >>> matrix = [[1.0, 1.0], [0.0, 2.0]]  # rows: true class, columns: predicted
        >>> report = keras_segen.metrics.segmentation_report(matrix, ["background", "circle"])
        >>> print(keras_segen.runs.format_report(report))
        class                IoU    Dice   prec.  recall     pixels
        background        0.5000  0.6667  1.0000  0.5000          2
        circle            0.6667  0.8000  0.6667  1.0000          2
        mean              0.5833  0.7333  0.8333  0.7500
        pixel accuracy 0.7500
    """
    lines = [f"{'class':16s} {'IoU':>7s} {'Dice':>7s} {'prec.':>7s} {'recall':>7s} {'pixels':>10s}"]
    for name, scores in report["per_class"].items():
        lines.append(
            f"{name:16s} {scores['iou']:7.4f} {scores['dice']:7.4f} {scores['precision']:7.4f} "
            f"{scores['recall']:7.4f} {scores['support']:10d}"
        )
    lines.append(
        f"{'mean':16s} {report['mean_iou']:7.4f} {report['mean_dice']:7.4f} "
        f"{report['mean_precision']:7.4f} {report['mean_recall']:7.4f}"
    )
    lines.append(f"pixel accuracy {report['pixel_accuracy']:.4f}")
    return "\n".join(lines)


def evaluate(
    run_or_model,
    dataset=None,
    split="test",
    image_size=None,
    batch_size=16,
    num_classes=None,
    out=None,
    verbose=1,
    full_resolution=False,
    mode="auto",
    overlap=0.5,
    scale=1.0,
):
    """Evaluates a run or a ``.keras`` model; writes ``evaluation.json`` and a confusion plot.

    Args:
        run_or_model: run directory or ``.keras`` file.
        dataset: dataset source (default: the run's).
        split: for a run on its own dataset, the role ``"train"``, ``"validation"`` or
            ``"test"`` exactly as the run defined it (its ``config["splits"]``: a held-out
            ``validation_split``, or validation standing in for a missing test split);
            otherwise the dataset's split.
        image_size: input size (default: the run's, or the model's fixed input size).
        batch_size: batch size.
        num_classes: classes (default: the model's output channels).
        out: where to write (default: the run directory, or beside the model file).
        verbose: print the per-class table.
        full_resolution: score every image at the dataset's own resolution against its
            mask as stored (the Cityscapes protocol), segmenting by ``mode``.
        mode: ``"auto"``, ``"tile"`` or ``"resize"`` (``keras_segen.inference``).
        overlap: tile overlap.
        scale: resize factor before tiling (e.g. 0.5 for a model trained on half-size
            frames).

    Returns:
        The report dict.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> report = keras_segen.evaluate("runs/unet", split="test", verbose=0)
        >>> 0 <= report["mean_iou"] <= 1, list(report["per_class"])
        (True, ['background', 'circle', 'rectangle', 'triangle'])
    """
    model, config = load_run_or_model(run_or_model)
    dataset = str(dataset or config.get("dataset") or "")
    if not dataset:
        raise ValueError("dataset is needed to evaluate a .keras file.")
    image_size = image_size or config.get("image_size") or fixed_input_size(model)
    num_classes = num_classes or config.get("num_classes") or int(model.output.shape[-1])
    loading = dict(image_size=image_size, batch_size=batch_size, num_classes=num_classes)
    if full_resolution:
        loading.update(image_size=None, batch_size=None, cache=False)
    if config and dataset == config["dataset"] and split in ROLES:
        run_config, _ = read_run(run_or_model)
        data, info = load_role(run_config, split, **loading)
        spec = run_config.resolved["splits"][split]
        source_split = spec["split"]
        described = f"the run's {split} data: {spec['note']}"
    else:
        data, info = load_segmentation(
            dataset, split, seed=config.get("seed", 0),
            ignore_index=config.get("ignore_index", 255), with_info=True, **loading,
        )  # fmt: skip
        source_split = split
        described = f"the {split} split of {dataset}"
    if verbose:
        print(f"evaluating on {described} ({info.num_examples or 'unknown number of'} images)")
    tiles = None
    if full_resolution:
        tiles = dict(
            input_size=image_size_pair(image_size), mode=mode, overlap=overlap, scale=scale
        )
    class_names = config.get("class_names") or info.class_names
    report = evaluate_model(
        model, data, num_classes, class_names, config.get("ignore_index", 255), tiles
    )
    report = {"dataset": dataset, "split": source_split, "full_resolution": bool(tiles), **report}
    path = pathlib.Path(run_or_model)
    out = pathlib.Path(out or (path if path.is_dir() else path.parent))
    out.mkdir(parents=True, exist_ok=True)
    write_json(report, out / "evaluation.json")
    viz.plot_confusion_matrix(report["confusion_matrix"], class_names).savefig(
        out / "confusion_matrix.png", dpi=100
    )
    if verbose:
        print(format_report(report))
    return report


def fixed_input_size(model):
    """``(height, width)`` of a model with a fixed input size; else a ValueError."""
    height, width = model.input.shape[1:3]
    if height is None or width is None:
        raise ValueError("The model takes any size; give image_size.")
    return (height, width)


def save_mask(labels, path, colours=None):
    """Writes class ids as a palette PNG: the file holds the ids (``read_mask`` gives them
    back) and image viewers show the class colours."""
    from PIL import Image

    if labels.max(initial=0) > 255:
        Image.fromarray(labels.astype(np.uint16)).save(path)
        return
    palette = np.round(viz.class_palette(colours) * 255).astype(np.uint8)
    palette = np.resize(palette, (256, 3))  # repeats the class colours over all 256 ids
    mask = Image.fromarray(labels.astype(np.uint8), mode="P")
    mask.putpalette(palette.flatten().tolist())
    mask.save(path)


def _image_files(inputs):
    inputs = pathlib.Path(inputs)
    if inputs.is_dir():
        files = sorted(
            p for p in inputs.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(p)
        )
        if not files:
            raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) in {inputs}.")
        return files
    if inputs.is_file():
        return [inputs]
    raise ValueError(f"{inputs} is neither an image file nor a folder.")


def predict(
    run_or_model, inputs, out, image_size=None, mode="auto", overlap=0.5, scale=1.0, verbose=0
):
    """Writes ``<name>_mask.png`` and ``<name>_overlay.png`` for an image or a folder of images.

    The mask has each image's own size: an image larger than the model input is
    segmented by overlapping tiles with blended logits (``mode="tile"``; ``"auto"`` picks
    it then), or resized to the model input and back (``mode="resize"``). Masks are
    palette PNGs of class ids coloured with the run's class colours.

    Args:
        run_or_model: run directory or ``.keras`` file.
        inputs: an image file or a folder of images.
        out: output folder.
        image_size: model input size (default: the run's or the model's).
        mode: ``"auto"``, ``"tile"`` or ``"resize"`` (``keras_segen.inference``).
        overlap: tile overlap, in [0, 1).
        scale: resize factor before tiling.
        verbose: 1 prints, per image, its size and whether it was tiled or resized.

    Returns:
        The paths written.

    Example:
        >>> report = keras_segen.train("unet", epochs=1, image_size=32, num_examples=16,
        ...     validation_examples=8, model_kwargs={"filters": 8, "depth": 2}, out="runs/unet",
        ...     verbose=0)
        >>> import os, PIL.Image
        >>> os.makedirs("photos")
        >>> image, _ = keras_segen.data.shapes_example(0, image_size=48)
        >>> PIL.Image.fromarray((image * 255).astype("uint8")).save("photos/scene.png")
        >>> keras_segen.predict("runs/unet", "photos/", out="predictions/")
        ['predictions/scene_mask.png', 'predictions/scene_overlay.png']
        >>> keras_segen.data.read_mask("predictions/scene_mask.png").shape  # the image's size
        (48, 48)
    """
    from PIL import Image

    model, config = load_run_or_model(run_or_model)
    size = image_size_pair(image_size or config.get("image_size") or fixed_input_size(model))
    colours = config.get("class_colours")
    files = _image_files(inputs)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in files:
        try:
            original = read_image(path)
        except DataFileError as error:
            raise ValueError(f"Cannot read image {error}") from None
        logits = segment_image(model, original, size, mode, overlap, scale)
        if verbose:
            scaled = tuple(max(1, round(side * scale)) for side in original.shape[:2])
            how = (
                f"tiled with {size[0]}x{size[1]} windows (overlap {overlap:g})"
                if uses_tiles(scaled, size, mode)
                else f"resized to {size[0]}x{size[1]} and back"
            )
            print(f"{path.name}: {original.shape[0]}x{original.shape[1]}, {how}")
        labels = np.argmax(logits, axis=-1)
        mask_path, overlay_path = out / f"{path.stem}_mask.png", out / f"{path.stem}_overlay.png"
        save_mask(labels, mask_path, colours)
        drawn = viz.drawing_colours(config.get("class_names"), colours)
        picture = viz.overlay(original / 255.0, labels, colours=drawn)
        Image.fromarray(np.round(picture * 255).astype(np.uint8)).save(overlay_path)
        written += [str(mask_path), str(overlay_path)]
    return written
