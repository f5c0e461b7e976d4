"""Folder layouts of segmentation datasets, read exactly as they are distributed.

``open_layout(root)`` detects the layout (or takes ``layout=``) and returns a ``Layout``:
its classes, how mask values become labels, and the ``(image, mask)`` file pairs of
each split, with every pairing problem (a file without its partner, a listed id whose
files are missing, a file that is no image) reported rather than skipped.

======================  =================================================================
layout                  on disk
======================  =================================================================
``folder``              ``[train/|validation/|val/|test/]images/*`` + ``masks/*`` (same
                        stem); optional ``classes.txt`` / ``classes.json`` /
                        ``label_colors.txt`` / ``class_dict.csv``; masks are class ids or,
                        with a colour table, RGB colours
``voc``                 ``VOCdevkit/VOC2012``: ``JPEGImages/*.jpg``, palette PNGs in
                        ``SegmentationClass/``, ``ImageSets/Segmentation/{train,val}.txt``;
                        with ``SegmentationClassAug/`` and ``train_aug.txt`` (SBD) the
                        train split is the augmented one
``cityscapes``          ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` +
                        ``gtFine/<split>/<city>/*_gtFine_labelIds.png``
``ade20k``              ``ADEChallengeData2016/images/{training,validation}/*.jpg`` +
                        ``annotations/{training,validation}/*.png``
``camvid``              ``{train,val,test}/*.png`` + ``{train,val,test}_labels/*_L.png`` +
                        ``class_dict.csv`` (the widely mirrored Kaggle copy of CamVid)
======================  =================================================================
"""

import dataclasses
import os
import pathlib

import numpy as np

from keras_segen.data import classes as tables
from keras_segen.data.files import IMAGE_SUFFIXES, is_hidden

LAYOUTS = ("folder", "voc", "cityscapes", "ade20k", "camvid")
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class Layout:
    """A dataset folder as distributed: classes, label mapping and split file pairs.

    ``splits`` maps each split a layout has to a function returning ``(pairs, problems)``:
    ``pairs`` a list of ``(image_path, mask_path)``, ``problems`` a list of
    ``(path, problem)``. ``notes`` says where a split comes from.

    Example:
        >>> import os, PIL.Image
        >>> for folder in ("data/train/images", "data/train/masks", "data/val/images"):
        ...     os.makedirs(folder)
        >>> PIL.Image.new("RGB", (2, 2)).save("data/train/images/a.png")
        >>> PIL.Image.new("L", (2, 2)).save("data/train/masks/a.png")
        >>> source = keras_segen.data.open_layout("data")
        >>> source.name, list(source.splits), source.pairs("train")
        ('folder', ['train', 'validation'],
         ([('data/train/images/a.png', 'data/train/masks/a.png')], []))
    """

    name: str
    root: str
    class_names: tuple | None
    class_colours: tuple | None
    mapping: tables.LabelMapping
    splits: dict
    notes: dict
    missing: dict  # split -> why a layout does not provide it

    @property
    def num_classes(self):
        """Number of classes, or ``None`` when the masks decide (generic folders)."""
        return None if self.class_names is None else len(self.class_names)

    def pairs(self, split):
        """``(pairs, problems)`` of ``split``; a split the layout lacks is a ValueError."""
        if split not in self.splits:
            why = self.missing.get(split, "")
            raise ValueError(
                f"{self.root} ({self.name} layout) has no {split!r} split{why}; its splits are "
                f"{', '.join(self.splits) or 'none'}."
            )
        return self.splits[split]()


def _files(folder, suffixes=IMAGE_SUFFIXES):
    """Non-hidden files of ``folder`` (sorted) and the ones that are not images."""
    files, others = [], []
    for path in sorted(pathlib.Path(folder).iterdir()):
        if is_hidden(path) or path.is_dir():
            continue
        (files if path.suffix.lower() in suffixes else others).append(path)
    return files, others


def _pair_by_stem(images_dir, masks_dir, mask_stem=lambda stem: stem):
    """Pairs ``images_dir/<stem>.*`` with ``masks_dir/<mask_stem(stem)>.*``."""
    problems = []
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise ValueError(f"Expected a folder {folder} (layout: images/ and masks/).")

    def by_stem(folder, suffixes):
        files, others = _files(folder, suffixes)
        problems.extend((str(path), "not an image file") for path in others)
        found = {}
        for path in files:
            if path.stem in found:
                problems.append((str(path), f"shares its stem with {found[path.stem].name}"))
                continue
            found[path.stem] = path
        return found

    images = by_stem(images_dir, IMAGE_SUFFIXES)
    masks = by_stem(masks_dir, IMAGE_SUFFIXES)
    wanted = {mask_stem(stem): stem for stem in images}
    pairs = []
    for stem, image in sorted(images.items()):
        mask = masks.get(mask_stem(stem))
        if mask is None:
            problems.append((str(image), f"no mask {mask_stem(stem)}.* in {masks_dir}"))
        else:
            pairs.append((str(image), str(mask)))
    for stem, mask in sorted(masks.items()):
        if stem not in wanted:
            problems.append((str(mask), f"no image for this mask in {images_dir}"))
    return pairs, problems


def _folder_classes(root, colours):
    """Class names, colours and mapping of a generic folder."""
    if isinstance(colours, (str, os.PathLike)):
        names, table, ignore = tables.read_class_file(colours)
        if table is None:
            raise ValueError(f"The colour file {colours} gives no colours.")
    elif isinstance(colours, dict):
        names, table, ignore = tuple(colours), tuple(colours.values()), ()
    elif colours is not None:
        table, ignore = tuple(colours), ()
        names = tuple(str(i) for i in range(len(table)))
    else:
        class_file = tables.find_class_file(root)
        if class_file is None:
            return None, None, tables.LabelMapping()
        names, table, ignore = tables.read_class_file(class_file)
    if table is None:
        return names, None, tables.LabelMapping()
    return names, tuple(table), tables.colour_mapping(table, ignore)


SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


def _split_folder(root, split):
    """``root/<split folder>`` holding ``images/``, or ``None``."""
    for name in SPLIT_FOLDERS[split]:
        if (root / name / "images").is_dir():
            return root / name
    return None


def _generic(root, colours):
    names, table, mapping = _folder_classes(root, colours)
    if (root / "images").is_dir() or (root / "masks").is_dir():
        splits = {"train": lambda: _pair_by_stem(root / "images", root / "masks")}
        notes = {"train": "images/ + masks/ (a flat folder: the train split only)"}
        missing = {
            s: " (a flat folder is one set: carve validation data with validation_split=, "
            "or name another folder with val_dataset=)"
            for s in ("validation", "test")
        }
    else:
        splits, notes, missing = {}, {}, {}
        for split in SPLITS:
            folder = _split_folder(root, split)
            if folder is not None:
                splits[split] = lambda f=folder: _pair_by_stem(f / "images", f / "masks")
                notes[split] = f"{folder.name}/images + {folder.name}/masks"
        if not splits:
            raise ValueError(
                f"{root} is no dataset folder keras_segen knows: expected images/ and masks/ "
                "(directly or under train/, validation/ or val/, test/), or one of the "
                f"layouts {', '.join(LAYOUTS[1:])} (see keras_segen.data.layouts)."
            )
    return Layout("folder", str(root), names, table, mapping, splits, notes, missing)


def _voc_root(root):
    for candidate in (root, root / "VOC2012", root / "VOCdevkit" / "VOC2012"):
        if (candidate / "JPEGImages").is_dir() and (candidate / "SegmentationClass").is_dir():
            return candidate
    return None


def _list_pairs(list_file, image_pattern, mask_pattern):
    """Pairs named by the ids of a list file (VOC ``ImageSets``); missing files reported."""
    pairs, problems = [], []
    with open(list_file) as file:
        ids = [line.split()[0] for line in file if line.strip()]
    for item in ids:
        image, mask = image_pattern.format(item), mask_pattern.format(item)
        missing = [path for path in (image, mask) if not os.path.isfile(path)]
        for path in missing:
            problems.append((path, f"listed as {item!r} in {list_file} but missing"))
        if not missing:
            pairs.append((image, mask))
    return pairs, problems


def _voc(root):
    base = _voc_root(root)
    sets = base / "ImageSets" / "Segmentation"
    images = str(base / "JPEGImages" / "{}.jpg")

    def listed(name, masks="SegmentationClass"):
        return lambda: _list_pairs(sets / name, images, str(base / masks / "{}.png"))

    splits, notes = {}, {}
    if (sets / "train_aug.txt").is_file() and (base / "SegmentationClassAug").is_dir():
        splits["train"] = listed("train_aug.txt", "SegmentationClassAug")
        notes["train"] = "ImageSets/Segmentation/train_aug.txt (SBD-augmented)"
    elif (sets / "train.txt").is_file():
        splits["train"] = listed("train.txt")
        notes["train"] = "ImageSets/Segmentation/train.txt"
    if (sets / "val.txt").is_file():
        splits["validation"] = listed("val.txt")
        notes["validation"] = "ImageSets/Segmentation/val.txt"
    names = tables.VOC_CLASS_NAMES
    colours = tuple(tables.voc_colour(i) for i in range(len(names)))
    missing = {"test": " (the VOC 2012 test masks are not public)"}
    return Layout("voc", str(base), names, colours, tables.LabelMapping(), splits, notes, missing)


CITYSCAPES_SPLITS = {"train": "train", "validation": "val"}


def _cityscapes_pairs(root, folder):
    images_root, masks_root = root / "leftImg8bit" / folder, root / "gtFine" / folder
    pairs, problems = [], []
    images = sorted(images_root.glob("*/*_leftImg8bit.png"))
    for image in images:
        stem = image.name[: -len("_leftImg8bit.png")]
        mask = masks_root / image.parent.name / f"{stem}_gtFine_labelIds.png"
        if mask.is_file():
            pairs.append((str(image), str(mask)))
        else:
            problems.append((str(image), f"no mask {mask}"))
    image_stems = {image.name[: -len("_leftImg8bit.png")] for image in images}
    for mask in sorted(masks_root.glob("*/*_gtFine_labelIds.png")):
        if mask.name[: -len("_gtFine_labelIds.png")] not in image_stems:
            problems.append((str(mask), f"no image for this mask in {images_root}"))
    return pairs, problems


def _cityscapes(root):
    splits = {
        split: (lambda folder=folder: _cityscapes_pairs(root, folder))
        for split, folder in CITYSCAPES_SPLITS.items()
        if (root / "leftImg8bit" / folder).is_dir()
    }
    notes = {
        split: f"leftImg8bit/{folder} + gtFine/{folder}/*_gtFine_labelIds.png"
        for split, folder in CITYSCAPES_SPLITS.items()
        if split in splits
    }
    missing = {"test": " (Cityscapes test masks are not public: gtFine/test holds placeholders)"}
    names, colours = tables.cityscapes_classes()
    mapping = tables.cityscapes_mapping()
    return Layout("cityscapes", str(root), names, colours, mapping, splits, notes, missing)


def _ade_root(root):
    for candidate in (root, root / "ADEChallengeData2016"):
        if (candidate / "images" / "training").is_dir() and (candidate / "annotations").is_dir():
            return candidate
    return None


def _ade20k(root):
    base = _ade_root(root)
    folders = {"train": "training", "validation": "validation"}
    splits = {
        split: (lambda f=folder: _pair_by_stem(base / "images" / f, base / "annotations" / f))
        for split, folder in folders.items()
        if (base / "images" / folder).is_dir()
    }
    notes = {s: f"images/{folders[s]} + annotations/{folders[s]}" for s in splits}
    missing = {"test": " (the ADE20K SceneParsing test masks are not public)"}
    colours = tables.ADE20K_COLOURS
    return Layout(
        "ade20k", str(base), tables.ADE20K_CLASS_NAMES, colours, tables.ade20k_mapping(),
        splits, notes, missing,
    )  # fmt: skip


def _camvid(root, colours):
    names, table, mapping = _folder_classes(root, colours)
    if table is None:
        raise ValueError(
            f"{root} (camvid layout) needs a colour table: class_dict.csv or label_colors.txt "
            "beside the data, or colours=."
        )
    folders = {"train": "train", "validation": "val", "test": "test"}
    splits = {
        split: (lambda f=folder: _pair_by_stem(root / f, root / f"{f}_labels", lambda s: f"{s}_L"))
        for split, folder in folders.items()
        if (root / folder).is_dir() and (root / f"{folder}_labels").is_dir()
    }
    notes = {s: f"{folders[s]}/ + {folders[s]}_labels/*_L.png" for s in splits}
    return Layout("camvid", str(root), names, table, mapping, splits, notes, {})


def detect_layout(root):
    """The name of the layout of the folder ``root`` (see the module docstring)."""
    root = pathlib.Path(root)
    if _voc_root(root) is not None:
        return "voc"
    if (root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir():
        return "cityscapes"
    if _ade_root(root) is not None:
        return "ade20k"
    if (root / "train").is_dir() and (root / "train_labels").is_dir():
        return "camvid"
    return "folder"


def open_layout(root, layout=None, colours=None):
    """The ``Layout`` of the dataset folder ``root``.

    Args:
        root: the dataset folder (for VOC also ``VOCdevkit`` or its parent; for ADE20K
            also the parent of ``ADEChallengeData2016``).
        layout: one of ``LAYOUTS``, or ``None`` to detect it.
        colours: a colour table for RGB masks: ``{name: (r, g, b)}``, a list of colours
            (class ``i`` has colour ``i``), or the path of a class file; by default a
            class file beside the data is used.

    Example:
        >>> import os
        >>> for folder in ("leftImg8bit/val/lindau", "gtFine/val/lindau"):
        ...     os.makedirs(f"cityscapes/{folder}")
        >>> source = keras_segen.data.open_layout("cityscapes")
        >>> source.name, source.num_classes, source.class_names[:3], list(source.splits)
        ('cityscapes', 19, ('road', 'sidewalk', 'building'), ['validation'])
    """
    root = pathlib.Path(os.path.expanduser(str(root)))
    if not root.is_dir():
        raise ValueError(f"Dataset folder {str(root)!r} does not exist.")
    name = layout or detect_layout(root)
    if name not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS} or None; got {layout!r}.")
    if name == "voc":
        if _voc_root(root) is None:
            raise ValueError(f"{root} has no VOC2012 JPEGImages/ and SegmentationClass/.")
        return _voc(root)
    if name == "cityscapes":
        if not (root / "leftImg8bit").is_dir():
            raise ValueError(f"{root} has no Cityscapes leftImg8bit/ and gtFine/ folders.")
        return _cityscapes(root)
    if name == "ade20k":
        if _ade_root(root) is None:
            raise ValueError(f"{root} has no ADE20K images/training and annotations/.")
        return _ade20k(root)
    if name == "camvid":
        return _camvid(root, colours)
    return _generic(root, colours)


def carve_validation(pairs, fraction, seed):
    """``(train, validation)``: a seeded, disjoint split of ``pairs`` (Keras' ``validation_split``).

    The pairs are sorted, shuffled with ``seed`` and the last ``round(fraction * n)``
    (at least one) become validation data, so the same files and seed always give the
    same split.

    Example:
        >>> pairs = [(f"images/{i}.png", f"masks/{i}.png") for i in range(10)]
        >>> train, validation = keras_segen.data.carve_validation(pairs, 0.2, seed=0)
        >>> len(train), len(validation), set(train) & set(validation)
        (8, 2, set())
    """
    if isinstance(fraction, bool) or not isinstance(fraction, float) or not 0 < fraction < 1:
        raise ValueError(f"validation_split must be a float in (0, 1); got {fraction!r}.")
    pairs = sorted(pairs)
    count = max(1, round(fraction * len(pairs)))
    if count >= len(pairs):
        raise ValueError(
            f"validation_split={fraction} of {len(pairs)} pairs leaves no training data."
        )
    order = np.random.default_rng(seed).permutation(len(pairs))
    return [pairs[i] for i in order[:-count]], [pairs[i] for i in order[-count:]]
