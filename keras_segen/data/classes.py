"""Class names, colours and label-id mappings of the standard datasets, and class files.

A ``LabelMapping`` turns the raw values of a mask file into training labels: a lookup
table for id-coded masks (Cityscapes label ids -> train ids, ADE20K's shift by one) or a
colour table for RGB masks (CamVid style). Raw values that the mapping does not know are
reported, never silently dropped.
"""

import csv
import dataclasses
import json
import os

import numpy as np

IGNORE = 255

VOC_CLASS_NAMES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


def voc_colour(index):
    """The Pascal VOC devkit colour of a label index (bits of the index spread over RGB).

    Example:
        >>> [keras_segen.data.voc_colour(i) for i in (0, 1, 15, 255)]
        [(0, 0, 0), (128, 0, 0), (192, 128, 128), (224, 224, 192)]
    """
    red = green = blue = 0
    for bit in range(8):
        red |= ((index >> 0) & 1) << (7 - bit)
        green |= ((index >> 1) & 1) << (7 - bit)
        blue |= ((index >> 2) & 1) << (7 - bit)
        index >>= 3
    return red, green, blue


# Cityscapes (cityscapesScripts helpers/labels.py): (label id, train id, name, colour) of
# the 34 ids that occur in *_gtFine_labelIds.png; train id 255 is ignored in evaluation.
CITYSCAPES_LABELS = (
    (0, 255, "unlabeled", (0, 0, 0)), (1, 255, "ego vehicle", (0, 0, 0)),
    (2, 255, "rectification border", (0, 0, 0)), (3, 255, "out of roi", (0, 0, 0)),
    (4, 255, "static", (0, 0, 0)), (5, 255, "dynamic", (111, 74, 0)),
    (6, 255, "ground", (81, 0, 81)), (7, 0, "road", (128, 64, 128)),
    (8, 1, "sidewalk", (244, 35, 232)), (9, 255, "parking", (250, 170, 160)),
    (10, 255, "rail track", (230, 150, 140)), (11, 2, "building", (70, 70, 70)),
    (12, 3, "wall", (102, 102, 156)), (13, 4, "fence", (190, 153, 153)),
    (14, 255, "guard rail", (180, 165, 180)), (15, 255, "bridge", (150, 100, 100)),
    (16, 255, "tunnel", (150, 120, 90)), (17, 5, "pole", (153, 153, 153)),
    (18, 255, "polegroup", (153, 153, 153)), (19, 6, "traffic light", (250, 170, 30)),
    (20, 7, "traffic sign", (220, 220, 0)), (21, 8, "vegetation", (107, 142, 35)),
    (22, 9, "terrain", (152, 251, 152)), (23, 10, "sky", (70, 130, 180)),
    (24, 11, "person", (220, 20, 60)), (25, 12, "rider", (255, 0, 0)),
    (26, 13, "car", (0, 0, 142)), (27, 14, "truck", (0, 0, 70)),
    (28, 15, "bus", (0, 60, 100)), (29, 255, "caravan", (0, 0, 90)),
    (30, 255, "trailer", (0, 0, 110)), (31, 16, "train", (0, 80, 100)),
    (32, 17, "motorcycle", (0, 0, 230)), (33, 18, "bicycle", (119, 11, 32)),
)  # fmt: skip

# ADE20K SceneParsing (ADEChallengeData2016, objectInfo150): the first name of each class
# and the colour table of the benchmark's reference code.
ADE20K_CLASS_NAMES = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane",
    "grass", "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant",
    "curtain", "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea",
    "mirror", "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe",
    "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
    "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace",
    "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table",
    "pillow", "screen door", "stairway", "river", "bridge", "bookcase", "blind",
    "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove",
    "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine",
    "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning",
    "streetlight", "booth", "television receiver", "airplane", "dirt track", "apparel",
    "pole", "land", "bannister", "escalator", "ottoman", "bottle", "buffet", "poster",
    "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
    "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike",
    "cradle", "oven", "ball", "food", "step", "tank", "trade name", "microwave", "pot",
    "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture", "hood",
    "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen",
    "plate", "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)  # fmt: skip
ADE20K_COLOURS = (
    (120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3),
    (120, 120, 80), (140, 140, 140), (204, 5, 255), (230, 230, 230), (4, 250, 7),
    (224, 5, 255), (235, 255, 7), (150, 5, 61), (120, 120, 70), (8, 255, 51),
    (255, 6, 82), (143, 255, 140), (204, 255, 4), (255, 51, 7), (204, 70, 3),
    (0, 102, 200), (61, 230, 250), (255, 6, 51), (11, 102, 255), (255, 7, 71),
    (255, 9, 224), (9, 7, 230), (220, 220, 220), (255, 9, 92), (112, 9, 255),
    (8, 255, 214), (7, 255, 224), (255, 184, 6), (10, 255, 71), (255, 41, 10),
    (7, 255, 255), (224, 255, 8), (102, 8, 255), (255, 61, 6), (255, 194, 7),
    (255, 122, 8), (0, 255, 20), (255, 8, 41), (255, 5, 153), (6, 51, 255),
    (235, 12, 255), (160, 150, 20), (0, 163, 255), (140, 140, 140), (250, 10, 15),
    (20, 255, 0), (31, 255, 0), (255, 31, 0), (255, 224, 0), (153, 255, 0),
    (0, 0, 255), (255, 71, 0), (0, 235, 255), (0, 173, 255), (31, 0, 255),
    (11, 200, 200), (255, 82, 0), (0, 255, 245), (0, 61, 255), (0, 255, 112),
    (0, 255, 133), (255, 0, 0), (255, 163, 0), (255, 102, 0), (194, 255, 0),
    (0, 143, 255), (51, 255, 0), (0, 82, 255), (0, 255, 41), (0, 255, 173),
    (10, 0, 255), (173, 255, 0), (0, 255, 153), (255, 92, 0), (255, 0, 255),
    (255, 0, 245), (255, 0, 102), (255, 173, 0), (255, 0, 20), (255, 184, 184),
    (0, 31, 255), (0, 255, 61), (0, 71, 255), (255, 0, 204), (0, 255, 194),
    (0, 255, 82), (0, 10, 255), (0, 112, 255), (51, 0, 255), (0, 194, 255),
    (0, 122, 255), (0, 255, 163), (255, 153, 0), (0, 255, 10), (255, 112, 0),
    (143, 255, 0), (82, 0, 255), (163, 255, 0), (255, 235, 0), (8, 184, 170),
    (133, 0, 255), (0, 255, 92), (184, 0, 255), (255, 0, 31), (0, 184, 255),
    (0, 214, 255), (255, 0, 112), (92, 255, 0), (0, 224, 255), (112, 224, 255),
    (70, 184, 160), (163, 0, 255), (153, 0, 255), (71, 255, 0), (255, 0, 163),
    (255, 204, 0), (255, 0, 143), (0, 255, 235), (133, 255, 0), (255, 0, 235),
    (245, 0, 255), (255, 0, 122), (255, 245, 0), (10, 190, 212), (214, 255, 0),
    (0, 204, 255), (20, 0, 255), (255, 255, 0), (0, 153, 255), (0, 41, 255),
    (0, 255, 204), (41, 0, 255), (41, 255, 0), (173, 0, 255), (0, 245, 255),
    (71, 0, 255), (122, 0, 255), (0, 255, 184), (0, 92, 255), (184, 255, 0),
    (0, 133, 255), (255, 214, 0), (25, 194, 194), (102, 255, 0), (92, 0, 255),
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class LabelMapping:
    """Raw mask values -> labels ``0..num_classes-1`` (or ``ignore_index``).

    Exactly one of ``lookup`` (``lookup[raw] = label``; -1 marks a raw value that is no
    label of the dataset) and ``colours`` (``{(r, g, b): label}``) is set, or neither:
    the raw values are the labels.

    Example:
        >>> ade = keras_segen.data.LabelMapping(lookup=(255, 0, 1), description="ADE class")
        >>> labels, problems = ade.apply(np.array([[0, 1, 2]]))
        >>> labels.tolist(), problems  # 0 ("other") ignored, k -> k - 1
        ([[255, 0, 1]], [])
        >>> ade.apply(np.array([[0, 7, 7]]))[1]
        ['values that are no ADE class: 7: 2 pixels']
    """

    lookup: tuple | None = None
    colours: dict | None = None
    description: str = "label"

    def apply(self, raw, path=""):
        """``(labels int32 (H, W), problems)``; problems are texts naming values and counts."""
        if self.colours is not None:
            return self._apply_colours(raw)
        if raw.ndim == 3:
            return None, [
                "RGB colour mask but no colour table: give colours= (or a classes.json "
                "with colours, label_colors.txt or class_dict.csv beside the data), or save "
                "masks as single-channel class ids"
            ]
        if self.lookup is None:
            return raw.astype(np.int32), []
        table = np.asarray(self.lookup, np.int32)
        known = (raw >= 0) & (raw < len(table))
        labels = np.full(raw.shape, -1, np.int32)
        labels[known] = table[raw[known]]
        return self._report_unknown(raw, labels)

    def _apply_colours(self, raw):
        if raw.ndim != 3:
            return None, ["single-channel mask but a colour table was given: colour masks are RGB"]
        keys = (raw[..., 0].astype(np.int32) << 16) | (raw[..., 1].astype(np.int32) << 8)
        keys |= raw[..., 2].astype(np.int32)
        colour_keys = np.array([(r << 16) | (g << 8) | b for r, g, b in self.colours], np.int64)
        colour_labels = np.array(list(self.colours.values()), np.int32)
        order = np.argsort(colour_keys)
        colour_keys, colour_labels = colour_keys[order], colour_labels[order]
        position = np.clip(np.searchsorted(colour_keys, keys), 0, len(colour_keys) - 1)
        found = colour_keys[position] == keys
        labels = np.where(found, colour_labels[position], -1).astype(np.int32)
        if found.all():
            return labels, []
        unknown, counts = np.unique(keys[~found], return_counts=True)
        listed = ", ".join(
            f"({k >> 16}, {(k >> 8) & 255}, {k & 255}): {n} pixels"
            for k, n in sorted(zip(unknown.tolist(), counts.tolist()), key=lambda kn: -kn[1])[:5]
        )
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        return None, [f"colours not in the colour table: {listed}{more}"]

    def _report_unknown(self, raw, labels):
        bad = labels < 0
        if not bad.any():
            return labels, []
        values, counts = np.unique(raw[bad], return_counts=True)
        listed = ", ".join(f"{v}: {n} pixels" for v, n in zip(values[:8], counts[:8]))
        return None, [f"values that are no {self.description}: {listed}"]


def cityscapes_mapping():
    """Cityscapes label ids -> the 19 official train ids (everything else 255)."""
    table = [-1] * 256
    for label_id, train_id, _, _ in CITYSCAPES_LABELS:
        table[label_id] = train_id
    return LabelMapping(lookup=tuple(table), description="Cityscapes label id (0..33)")


def cityscapes_classes():
    """Names and colours of the 19 Cityscapes train ids, in train-id order."""
    rows = sorted((t, n, c) for _, t, n, c in CITYSCAPES_LABELS if t != IGNORE)
    return tuple(name for _, name, _ in rows), tuple(colour for _, _, colour in rows)


def ade20k_mapping():
    """ADE20K SceneParsing values: 0 ("other") -> ignored, ``k`` -> ``k - 1`` for 1..150."""
    table = [IGNORE] + list(range(150)) + [-1] * 105
    return LabelMapping(lookup=tuple(table), description="ADE20K class (0..150)")


def colour_mapping(colours, ignore_colours=()):
    """A ``LabelMapping`` from ordered colours (``{name: (r, g, b)}`` or a list of them);
    ``ignore_colours`` map to the ignore index."""
    values = list(colours.values()) if isinstance(colours, dict) else list(colours)
    table = {}
    labels = list(range(len(values))) + [IGNORE] * len(ignore_colours)
    for label, colour in zip(labels, values + list(ignore_colours)):
        colour = tuple(int(c) for c in colour)
        if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"Colour {colour!r} of class {label} is not an (r, g, b) triple.")
        if colour in table:
            raise ValueError(f"Colour {colour} is given to classes {table[colour]} and {label}.")
        table[colour] = label
    return LabelMapping(colours=table, description="class colour")


CLASS_FILES = ("classes.json", "classes.txt", "class_dict.csv", "label_colors.txt")


def read_class_file(path):
    """``(names, colours or None, ignore_colours)`` from a class file.

    Formats: ``classes.txt`` (one name per line, optionally ``name R G B``), ``classes.json``
    (a list of names, or of ``{"name", "colour"}``; or ``{"classes": [...], "ignore":
    [[r, g, b], ...]}``), CamVid's ``label_colors.txt`` (``R G B<tab>name``) and the
    ``class_dict.csv`` of the Kaggle CamVid copy (``name,r,g,b``). In a colour table, a
    class named ``void`` maps to the ignore index rather than being a class.

    Example:
        >>> with open("label_colors.txt", "w") as file:
        ...     _ = file.write("128 128 128\\tSky\\n64 0 128\\tCar\\n0 0 0\\tVoid\\n")
        >>> keras_segen.data.read_class_file("label_colors.txt")
        (('Sky', 'Car'), ((128, 128, 128), (64, 0, 128)), ((0, 0, 0),))
    """
    name = os.path.basename(str(path))
    try:
        with open(path, newline="") as file:
            text = file.read()
    except OSError as error:
        raise ValueError(f"Cannot read the class file {path}: {error}") from None
    rows = []  # (name, colour or None)
    ignore = []
    try:
        if name.endswith(".json"):
            data = json.loads(text)
            if isinstance(data, dict):
                ignore = [tuple(c) for c in data.get("ignore", [])]
                data = data["classes"]
            for entry in data:
                if isinstance(entry, str):
                    rows.append((entry, None))
                else:
                    colour = entry.get("colour", entry.get("color"))
                    rows.append((entry["name"], tuple(colour) if colour else None))
        elif name.endswith(".csv"):
            reader = csv.reader(text.splitlines())
            next(reader)  # name,r,g,b
            rows = [(r[0], tuple(int(v) for v in r[1:4])) for r in reader if r]
        else:
            for line in text.splitlines():
                if not line.strip():
                    continue
                parts = line.split()
                if name == "label_colors.txt":
                    rows.append((" ".join(parts[3:]), tuple(int(v) for v in parts[:3])))
                elif len(parts) >= 4 and all(p.isdigit() for p in parts[-3:]):
                    rows.append((" ".join(parts[:-3]), tuple(int(v) for v in parts[-3:])))
                else:
                    rows.append((line.strip(), None))
    except (ValueError, KeyError, TypeError, IndexError, StopIteration) as error:
        raise ValueError(f"Class file {path} is not in a format keras_segen reads: {error}")
    if not rows:
        raise ValueError(f"Class file {path} names no classes.")
    has_colours = [colour is not None for _, colour in rows]
    if any(has_colours) and not all(has_colours):
        raise ValueError(f"Class file {path}: give a colour for every class or for none.")
    if all(has_colours):
        ignore += [colour for entry, colour in rows if entry.lower() == "void"]
        rows = [(entry, colour) for entry, colour in rows if entry.lower() != "void"]
    names = tuple(entry for entry, _ in rows)
    if not all(has_colours):
        return names, None, tuple(ignore)
    return names, tuple(tuple(int(c) for c in colour) for _, colour in rows), tuple(ignore)


def find_class_file(folder):
    """The first of ``CLASS_FILES`` in ``folder``, or ``None``."""
    for name in CLASS_FILES:
        path = os.path.join(str(folder), name)
        if os.path.isfile(path):
            return path
    return None
