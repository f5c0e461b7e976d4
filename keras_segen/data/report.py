"""``check_data``: the whole-dataset check as a report (``keras-segen check-data``)."""

import dataclasses

import numpy as np

from keras_segen.data.checks import problem_lines, scan_pairs
from keras_segen.data.folders import open_with_classes


@dataclasses.dataclass
class DataReport:
    """What ``check_data`` found: layout, pairs and sizes per split, pixels per class,
    every problem.

    ``splits`` maps each split to ``{"pairs", "good", "sizes", "note"}`` (``sizes``: a
    Counter of ``(height, width)``); ``class_pixels`` maps each split to the pixels of
    each class (``ignored`` counts ``ignore_index``); ``problems`` are
    ``(split, path, problem)``.

    Example:
        >>> import os, PIL.Image
        >>> os.makedirs("mine/images"), os.makedirs("mine/masks")
        (None, None)
        >>> PIL.Image.new("RGB", (2, 2)).save("mine/images/a.png")
        >>> PIL.Image.fromarray(np.array([[0, 1], [1, 1]], np.uint8)).save("mine/masks/a.png")
        >>> report = keras_segen.data.check_data("mine")
        >>> report.ok, report.layout, report.class_pixels
        (True, 'folder', {'train': [1, 3]})
        >>> print(report.format().splitlines()[0])
        mine: folder layout, 2 classes
    """

    source: str
    layout: str
    class_names: tuple
    class_colours: tuple | None
    splits: dict
    class_pixels: dict
    ignored: dict
    problems: list

    @property
    def ok(self):
        """``True`` when no problem was found."""
        return not self.problems

    def format(self, limit=20):
        """The report as text: layout, splits, sizes, class histogram, problems."""
        lines = [f"{self.source}: {self.layout} layout, {len(self.class_names)} classes"]
        for split, facts in self.splits.items():
            sizes = facts["sizes"].most_common(3)
            shown = ", ".join(f"{w}x{h} ({n})" for (h, w), n in sizes)
            more = f" and {len(facts['sizes']) - 3} more sizes" if len(facts["sizes"]) > 3 else ""
            lines.append(
                f"  {split:10s} {facts['good']:6d} good of {facts['pairs']:6d} pairs  "
                f"[{facts['note']}]  sizes (WxH): {shown or '-'}{more}"
            )
        totals = self.total_pixels()
        grand = max(int(totals.sum()), 1)
        lines.append(f"  {'class':24s} {'pixels':>14s} {'share':>7s}")
        for name, count in zip(self.class_names, totals):
            lines.append(f"  {name[:24]:24s} {int(count):14d} {count / grand:7.2%}")
        lines.append(f"  {'(ignored)':24s} {sum(self.ignored.values()):14d}")
        lines += self.warnings()
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            found = [(f"[{split}] {path}", problem) for split, path, problem in self.problems]
            lines += problem_lines(found, limit)
        else:
            lines.append("no problems found")
        return "\n".join(lines)

    def empty_classes(self, split="train"):
        """``(label, name)`` of the classes with no pixel in ``split`` (all splits: ``None``)."""
        counts = self.total_pixels() if split is None else self.class_pixels.get(split)
        if counts is None:
            return []
        return [(i, self.class_names[i]) for i, n in enumerate(counts) if n == 0]

    def warnings(self):
        """Lines about classes no pixel of a split has (a wrong class file or num_classes)."""
        lines = []
        for split in self.class_pixels:
            empty = self.empty_classes(split)
            if empty:
                shown = ", ".join(f"{i} {name}" for i, name in empty[:10])
                more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
                lines.append(
                    f"warning: {len(empty)} of {len(self.class_names)} classes have no pixel "
                    f"in the {split} split: {shown}{more}"
                )
        return lines

    def total_pixels(self):
        """Pixels per class over all splits, ``int64 (num_classes,)``."""
        total = np.zeros(len(self.class_names), np.int64)
        for counts in self.class_pixels.values():
            total += np.asarray(counts, np.int64)
        return total


def check_data(source, layout=None, colours=None, num_classes=None, ignore_index=255,
               progress=None, classes=None):  # fmt: skip
    """Decodes every pair of every split of a dataset folder and reports what it found.

    Args:
        source: a dataset folder (any layout of ``keras_segen.data.layouts``).
        layout: the layout; detected by default.
        colours: colour table of RGB masks (see ``open_layout``).
        num_classes: classes of a generic folder (default: the largest label + 1).
        ignore_index: label that is not a class.
        progress: show progress bars (default: for 200 pairs or more).
        classes: a class file of one's own naming the classes (any layout).

    Returns:
        A ``DataReport``; ``report.ok`` is ``False`` when there are problems.

    Example:
        >>> import os, PIL.Image
        >>> os.makedirs("mine/images"), os.makedirs("mine/masks")
        (None, None)
        >>> PIL.Image.new("RGB", (4, 2)).save("mine/images/a.png")
        >>> PIL.Image.fromarray(np.array([[0, 1, 1, 1], [0, 0, 1, 255]], np.uint8)).save(
        ...     "mine/masks/a.png")
        >>> PIL.Image.new("RGB", (4, 2)).save("mine/images/b.png")  # no mask
        >>> report = keras_segen.data.check_data("mine")
        >>> report.ok, report.total_pixels().tolist(), report.ignored
        (False, [3, 4], {'train': 1})
        >>> report.problems[0][1:]
        ('mine/images/b.png', 'no mask b.* in mine/masks')
    """
    dataset = open_with_classes(source, layout, colours, classes, num_classes)
    num_classes = num_classes or dataset.num_classes
    splits, pixels, ignored, problems = {}, {}, {}, []
    for split in dataset.splits:
        pairs, pairing = dataset.pairs(split)
        scan = scan_pairs(pairs, dataset.mapping, num_classes, ignore_index, progress)
        num_classes = num_classes or scan.num_classes
        problems += [(split, path, problem) for path, problem in pairing + scan.problems]
        splits[split] = {
            "pairs": len(pairs),
            "good": len(scan.good),
            "sizes": scan.sizes,
            "note": dataset.notes.get(split, ""),
        }
        pixels[split] = scan.label_pixels
        ignored[split] = scan.label_pixels.get(ignore_index, 0)
    num_classes = num_classes or 1
    names = dataset.class_names or tuple(str(i) for i in range(num_classes))
    class_pixels = {
        split: [counts.get(label, 0) for label in range(len(names))]
        for split, counts in pixels.items()
    }
    return DataReport(
        str(source), dataset.name, names, dataset.class_colours, splits, class_pixels,
        ignored, problems,
    )  # fmt: skip
