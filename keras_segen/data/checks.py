"""One pass over a dataset that decodes every pair and names every fault before training.

``scan_pairs`` fully decodes each image and mask (in parallel threads: Pillow releases
the GIL while it decodes) and collects, for every file, what is wrong with it: unreadable
or truncated files, lossy masks, image/mask size mismatches, label values the dataset
does not define, unknown colours, labels out of range. ``DataError`` lists them all.
"""

import collections
import concurrent.futures
import dataclasses
import os
import sys

import numpy as np

from keras_segen.data.files import DataFileError, raw_image_size, read_image, read_mask

ON_BAD = ("raise", "skip")
_PROGRESS_FROM = 200  # pairs: smaller folders are checked without a progress bar


@dataclasses.dataclass
class Scan:
    """What a pass over file pairs found.

    ``good`` are the pairs without problems; ``problems`` are ``(path, problem)``;
    ``sizes`` counts image sizes ``(height, width)``; ``label_pixels`` counts pixels per
    label value (``ignore_index`` included) over the good pairs.

    Example:
        >>> import os, PIL.Image
        >>> os.makedirs("data/images"), os.makedirs("data/masks")
        (None, None)
        >>> PIL.Image.new("RGB", (3, 2)).save("data/images/a.png")
        >>> PIL.Image.fromarray(np.array([[0, 1, 1], [0, 0, 255]], np.uint8)).save(
        ...     "data/masks/a.png")
        >>> scan = keras_segen.data.scan_pairs(
        ...     [("data/images/a.png", "data/masks/a.png")], keras_segen.data.LabelMapping())
        >>> scan.num_classes, dict(scan.sizes), dict(scan.label_pixels)  # 255 is ignored
        (2, {(2, 3): 1}, {0: 3, 1: 2, 255: 1})
    """

    good: list
    problems: list
    sizes: collections.Counter
    label_pixels: collections.Counter
    num_classes: int | None


class DataError(ValueError):
    """Every problem of a dataset at once: ``problems`` is a list of ``(path, problem)``.

    Example:
        >>> error = keras_segen.data.DataError("mydata", [("masks/a.jpg", "lossy mask")])
        >>> print(error)
        mydata: 1 problem(s) in 1 file(s):
          masks/a.jpg: lossy mask
        Fix or remove these files, or pass on_bad='skip' (CLI: --on-bad skip) to use only the
        good pairs.
    """

    def __init__(self, source, problems, total=None, limit=20, what="pairs"):
        self.problems = list(problems)
        super().__init__(format_problems(source, self.problems, total, limit, what))


def format_problems(source, problems, total=None, limit=20, what="pairs"):
    """The text of a ``DataError``: counts by kind of problem, then the files; ``what`` the
    dataset is made of (image/mask ``"pairs"``, ``"images"``)."""
    count = len({path for path, _ in problems})
    head = f"{source}: {len(problems)} problem(s) in {count} file(s)"
    if total is not None:
        head += f" of {total} {what}"
    lines = [head + ":", *problem_lines(problems, limit)]
    lines.append(
        "Fix or remove these files, or pass on_bad='skip' (CLI: --on-bad skip) to use only "
        f"the good {what}."
    )
    return "\n".join(lines)


def problem_lines(problems, limit=20):
    """``"  where: problem"`` lines of ``(where, problem)`` pairs; past ``limit``, counts by
    kind of problem first and the rest summarised."""
    lines = []
    if len(problems) > limit:
        kinds = collections.Counter(problem.split(":")[0].split(" (")[0] for _, problem in problems)
        lines += [f"  {n} x {kind}" for kind, n in kinds.most_common()]
    lines += [f"  {where}: {problem}" for where, problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return lines


def _check_pair(image_path, mask_path, mapping):
    """``(problems, size, labels_histogram)`` of one pair, decoding both files fully."""
    problems, image, labels = [], None, None
    try:
        image = read_image(image_path)
    except DataFileError as error:
        problems.append((error.path, error.problem))
    try:
        labels, mapping_problems = mapping.apply(read_mask(mask_path))
        problems += [(str(mask_path), problem) for problem in mapping_problems]
    except DataFileError as error:
        problems.append((error.path, error.problem))
    if image is None or labels is None:
        return problems, None, None
    if image.shape[:2] != labels.shape:
        problems.append((str(image_path), _size_mismatch(image_path, mask_path, image, labels)))
        return problems, None, None
    values, counts = np.unique(labels, return_counts=True)
    return problems, image.shape[:2], dict(zip(values.tolist(), counts.tolist()))


def _size_mismatch(image_path, mask_path, image, labels):
    text = (
        f"image is {image.shape[1]}x{image.shape[0]} but its mask {mask_path} is "
        f"{labels.shape[1]}x{labels.shape[0]} (width x height)"
    )
    if raw_image_size(image_path) == (labels.shape[1], labels.shape[0]):
        text += (
            "; the mask matches the image before its EXIF rotation: annotate the image as "
            "viewers show it, or save it without the EXIF orientation tag"
        )
    return text


def scan_pairs(pairs, mapping, num_classes=None, ignore_index=255, progress=None):
    """Decodes every pair once and collects every problem (see the module docstring).

    Args:
        pairs: ``[(image_path, mask_path)]``.
        mapping: the dataset's ``LabelMapping``.
        num_classes: valid labels are ``0..num_classes-1`` and ``ignore_index``; ``None``
            infers it as the largest label + 1.
        ignore_index: the label that is not a class.
        progress: show a progress bar (default: for 200 pairs or more).

    Returns:
        A ``Scan``.

    Example:
        >>> import os, PIL.Image
        >>> os.makedirs("data/images"), os.makedirs("data/masks")
        (None, None)
        >>> PIL.Image.new("RGB", (4, 2)).save("data/images/a.png")
        >>> PIL.Image.fromarray(np.array([[0, 1, 1, 7], [0, 0, 1, 1]], np.uint8)).save(
        ...     "data/masks/a.png")
        >>> scan = keras_segen.data.scan_pairs(
        ...     [("data/images/a.png", "data/masks/a.png")], keras_segen.data.LabelMapping(),
        ...     num_classes=2)
        >>> scan.problems
        [('data/masks/a.png', 'labels [7] outside 0..1 that are not ignore_index=255: 1 pixels')]
    """
    pairs = list(pairs)
    show = len(pairs) >= _PROGRESS_FROM if progress is None else progress
    bar = None
    if show and pairs:
        from keras.utils import Progbar

        print(f"Checking {len(pairs)} image/mask pairs", file=sys.stderr)
        bar = Progbar(len(pairs), unit_name="pair")
    workers = min(16, 2 * (os.cpu_count() or 1))
    results = []
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for index, result in enumerate(pool.map(lambda p: _check_pair(*p, mapping), pairs)):
            results.append(result)
            if bar is not None and (index % 16 == 15 or index + 1 == len(pairs)):
                bar.update(index + 1)
    problems, decoded = [], []
    for pair, (pair_problems, size, histogram) in zip(pairs, results):
        problems += pair_problems
        if not pair_problems:
            decoded.append((pair, size, histogram))
    if num_classes is None:
        labels = [v for _, _, h in decoded for v in h if v != ignore_index]
        num_classes = max(labels) + 1 if labels else None
    good, sizes, label_pixels = [], collections.Counter(), collections.Counter()
    for pair, size, histogram in decoded:
        bad = sorted(v for v in histogram if v != ignore_index and not 0 <= v < num_classes)
        if bad:
            pixels = sum(histogram[v] for v in bad)
            problems.append(
                (
                    pair[1],
                    f"labels {bad[:10]} outside 0..{num_classes - 1} that are not "
                    f"ignore_index={ignore_index}: {pixels} pixels",
                )
            )
            continue
        good.append(pair)
        sizes[size] += 1
        label_pixels.update(histogram)
    return Scan(good, problems, sizes, label_pixels, num_classes)
