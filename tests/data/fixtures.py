"""Tiny datasets written in the exact on-disk formats they are distributed in.

Each writer returns the folder a user would point keras_segen at. Masks are drawn as
vertical bands of the given raw values, so the expected labels are known by hand.
"""

import csv
import json

import numpy as np
from PIL import Image

from keras_segen.data.classes import voc_colour


def bands(values, height, width):
    """An ``(height, width)`` array of vertical bands cycling through ``values``."""
    columns = np.arange(width) * len(values) // width
    return np.broadcast_to(np.asarray(values)[columns], (height, width)).copy()


def picture(height, width, seed):
    """A random RGB uint8 image."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def palette_png(labels, path, colour=voc_colour):
    """Saves class indices as a palette ("P") PNG, the way Pascal VOC ships masks."""
    mask = Image.fromarray(labels.astype(np.uint8), mode="P")
    mask.putpalette([c for index in range(256) for c in colour(index)])
    mask.save(path)


def write_generic(root, count=4, size=(24, 32), values=(0, 1, 2), split=None, classes=None):
    """``root[/split]/images/*.png`` + ``masks/*.png`` (8-bit grey class ids)."""
    base = root / split if split else root
    (base / "images").mkdir(parents=True, exist_ok=True)
    (base / "masks").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        stem = f"{split or 'img'}_{index:03d}"
        Image.fromarray(picture(*size, seed=index)).save(base / "images" / f"{stem}.png")
        mask = bands(values, *size).astype(np.uint8)
        Image.fromarray(mask).save(base / "masks" / f"{stem}.png")
    if classes is not None:
        (root / "classes.txt").write_text("\n".join(classes) + "\n")
    return root


VOC_TRAIN = ("2007_000032", "2007_000039", "2007_000063")
VOC_VAL = ("2007_000033", "2007_000042")


def write_voc(root, size=(30, 40)):
    """``VOCdevkit/VOC2012`` with JPEGImages, palette SegmentationClass PNGs (0, 1 =
    aeroplane, 15 = person, 255 = boundary) and ImageSets/Segmentation lists."""
    base = root / "VOCdevkit" / "VOC2012"
    for folder in ("JPEGImages", "SegmentationClass", "SegmentationObject", "Annotations"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    (base / "ImageSets" / "Segmentation").mkdir(parents=True)
    for index, item in enumerate(VOC_TRAIN + VOC_VAL):
        Image.fromarray(picture(*size, seed=index)).save(base / "JPEGImages" / f"{item}.jpg")
        palette_png(bands((0, 1, 255, 15), *size), base / "SegmentationClass" / f"{item}.png")
    lists = base / "ImageSets" / "Segmentation"
    (lists / "train.txt").write_text("\n".join(VOC_TRAIN) + "\n")
    (lists / "val.txt").write_text("\n".join(VOC_VAL) + "\n")
    (lists / "trainval.txt").write_text("\n".join(VOC_TRAIN + VOC_VAL) + "\n")
    return root / "VOCdevkit"


CITYSCAPES = {"train": ("aachen", "bochum"), "val": ("frankfurt",)}


def write_cityscapes(root, size=(32, 64)):
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` + ``gtFine/...`` with labelIds
    (7 road, 26 car, 0 unlabeled, 24 person), color and instanceIds files beside them,
    and a test split whose gtFine holds placeholders."""
    index = 0
    for split, cities in {**CITYSCAPES, "test": ("berlin",)}.items():
        for city in cities:
            images, masks = root / "leftImg8bit" / split / city, root / "gtFine" / split / city
            images.mkdir(parents=True)
            masks.mkdir(parents=True)
            for frame in range(2):
                stem = f"{city}_{frame:06d}_000019"
                Image.fromarray(picture(*size, seed=index)).save(images / f"{stem}_leftImg8bit.png")
                ids = bands((7, 26, 0, 24), *size).astype(np.uint8)
                Image.fromarray(ids).save(masks / f"{stem}_gtFine_labelIds.png")
                Image.fromarray(picture(*size, seed=99)).save(masks / f"{stem}_gtFine_color.png")
                Image.fromarray(ids.astype(np.uint16) * 1000).save(
                    masks / f"{stem}_gtFine_instanceIds.png"
                )
                (masks / f"{stem}_gtFine_polygons.json").write_text(json.dumps({"objects": []}))
                index += 1
    return root


def write_ade20k(root, size=(28, 36)):
    """``ADEChallengeData2016/images/{training,validation}/ADE_*.jpg`` + ``annotations``
    (8-bit grey, 0 = other, 1 = wall, 3 = sky, 150 = flag) and ``objectInfo150.csv``."""
    base = root / "ADEChallengeData2016"
    for folder, prefix, count in (("training", "ADE_train", 3), ("validation", "ADE_val", 2)):
        (base / "images" / folder).mkdir(parents=True)
        (base / "annotations" / folder).mkdir(parents=True)
        for index in range(1, count + 1):
            stem = f"{prefix}_{index:08d}"
            Image.fromarray(picture(*size, seed=index)).save(
                base / "images" / folder / f"{stem}.jpg"
            )
            labels = bands((0, 1, 3, 150), *size).astype(np.uint8)
            Image.fromarray(labels).save(base / "annotations" / folder / f"{stem}.png")
    (base / "objectInfo150.csv").write_text(
        "Idx,Ratio,Train,Val,Stuff,Name\n1,0.1576,11664,1172,1,wall\n"
    )
    (base / "sceneCategories.txt").write_text("ADE_train_00000001 airport_terminal\n")
    return root


CAMVID_CLASSES = (("Sky", (128, 128, 128)), ("Car", (64, 0, 128)), ("Road", (128, 64, 128)))


def write_camvid(root, size=(24, 32)):
    """The Kaggle CamVid copy: ``{train,val,test}/*.png``, ``*_labels/*_L.png`` (RGB
    colours, with Void black) and ``class_dict.csv``."""
    colours = [colour for _, colour in CAMVID_CLASSES] + [(0, 0, 0)]
    for split, count in (("train", 3), ("val", 2), ("test", 2)):
        (root / split).mkdir(parents=True)
        (root / f"{split}_labels").mkdir()
        for index in range(count):
            stem = f"0001TP_{6690 + 30 * index:06d}"
            Image.fromarray(picture(*size, seed=index)).save(root / split / f"{stem}.png")
            rgb = np.asarray(colours, np.uint8)[bands((0, 1, 2, 3), *size)]
            Image.fromarray(rgb).save(root / f"{split}_labels" / f"{stem}_L.png")
    with open(root / "class_dict.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(("name", "r", "g", "b"))
        writer.writerows((name, *colour) for name, colour in CAMVID_CLASSES)
        writer.writerow(("Void", 0, 0, 0))
    return root
