"""Unlabelled images for semi-supervised segmentation, and their pairing with labelled data.

A source of unlabelled images is a folder (every PNG/JPEG/... file under it, any sizes,
each decoded once before training so that every unreadable file is named together) or an
embedded source (``"shapes"``, ``"shapes_coloured"``, ``"streets"``), whose unlabelled
images are drawn apart from its labelled splits. Images are resized bilinearly to the
training size and scaled to [0, 1] by the same ``preprocess_image`` as the labelled data.
"""

import concurrent.futures
import os
import pathlib

from keras_segen.data.checks import ON_BAD, DataError
from keras_segen.data.files import IMAGE_SUFFIXES, DataFileError, is_hidden, read_image
from keras_segen.data.sources import SHAPES_SOURCES, DatasetInfo

_CHECK_THREADS = 8


def unlabelled_files(folder):
    """The image files under ``folder`` (recursively, hidden ones left out), sorted."""
    root = pathlib.Path(os.path.expanduser(str(folder)))
    if not root.is_dir():
        raise ValueError(f"The unlabelled images folder {root} does not exist.")
    files = sorted(
        str(path)
        for path in root.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and not is_hidden(path)
    )
    if not files:
        raise ValueError(
            f"No image files ({', '.join(IMAGE_SUFFIXES)}) found under the unlabelled images "
            f"folder {root}."
        )
    return files


def _problem(path):
    try:
        read_image(path)
    except DataFileError as error:
        return path, error.problem
    return None


def check_unlabelled(files):
    """``(path, problem)`` of every file that does not decode as an image, in file order."""
    with concurrent.futures.ThreadPoolExecutor(_CHECK_THREADS) as pool:
        return [problem for problem in pool.map(_problem, files) if problem]


def load_unlabelled(source, image_size, num_examples=None, seed=0, shuffle=True,
                    on_bad="raise", with_info=False):  # fmt: skip
    """Unbatched ``tf.data`` of unlabelled images, float32 ``(H, W, 3)`` in [0, 1].

    Args:
        source: a folder of images (any sizes, searched recursively) or an embedded source
            (``"shapes"``, ``"shapes_coloured"``, ``"streets"``: images disjoint from its
            train, validation and test splits).
        image_size: int or ``(height, width)``.
        num_examples: how many images an embedded source draws (default 2000); for a
            folder, the first ``num_examples`` files in sorted order (default all).
        seed: the embedded drawing's seed and the shuffle's.
        shuffle: reshuffle every epoch.
        on_bad: ``"raise"`` (a ``DataError`` naming every unreadable file) or ``"skip"``.
        with_info: also return a ``DatasetInfo`` (``num_examples``, ``skipped``).

    Returns:
        The dataset, or ``(dataset, info)``.

    Example:
        >>> images = keras_segen.data.load_unlabelled("streets", 32, num_examples=4)
        >>> [tuple(image.shape) for image in images.take(2)]
        [(32, 32, 3), (32, 32, 3)]
    """
    import tensorflow as tf

    from keras_segen.data.images import decoded_image
    from keras_segen.data.preprocessing import image_size_pair, preprocess_image
    from keras_segen.data.sources import shapes_split

    size = image_size_pair(image_size)
    if on_bad not in ON_BAD:
        raise ValueError(f"on_bad must be one of {ON_BAD}; got {on_bad!r}.")
    skipped = []
    embedded = str(source) in SHAPES_SOURCES
    if embedded:
        images, _, _ = shapes_split("unlabelled", size, None, num_examples, seed, str(source))
        dataset = tf.data.Dataset.from_tensor_slices(images)
        count = len(images)
    else:
        files = unlabelled_files(source)[:num_examples]
        problems = check_unlabelled(files)
        if problems and on_bad == "raise":
            raise DataError(str(source), problems, total=len(files), what="images")
        skipped = tuple(problems)
        bad = {path for path, _ in problems}
        files = [path for path in files if path not in bad]
        if not files:
            raise ValueError(f"None of the images under {source} could be read.")
        dataset = tf.data.Dataset.from_tensor_slices(files)
        count = len(files)
    if shuffle:
        dataset = dataset.shuffle(min(count, 10_000), seed=seed, reshuffle_each_iteration=True)
    if not embedded:
        dataset = dataset.map(decoded_image, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(lambda image: preprocess_image(image, size),
                          num_parallel_calls=tf.data.AUTOTUNE)  # fmt: skip
    info = DatasetInfo(str(source), "unlabelled", 0, (), count, skipped=skipped)
    return (dataset, info) if with_info else dataset


def with_unlabelled(labelled, unlabelled):
    """Zips labelled ``(image, mask)`` and unlabelled image batches for semi-supervised ``fit``.

    Each element is ``((images, masks), unlabelled_images)``. An epoch is as long as the
    longer of the two; the shorter one repeats (reshuffled each pass where its pipeline
    shuffles). Both must be batched, and their lengths known.

    Example:
        >>> labelled = keras_segen.data.load_segmentation(
        ...     "streets", image_size=32, batch_size=2, num_examples=4)
        >>> unlabelled = keras_segen.data.load_unlabelled("streets", 32, num_examples=8).batch(2)
        >>> batches = keras_segen.data.with_unlabelled(labelled, unlabelled)
        >>> int(batches.cardinality())  # 4 unlabelled batches, 2 labelled ones twice
        4
    """
    import tensorflow as tf

    lengths = [int(dataset.cardinality()) for dataset in (labelled, unlabelled)]
    if min(lengths) < 1:
        raise ValueError(
            "with_unlabelled needs batched datasets of known, non-zero length; got "
            f"{lengths[0]} labelled and {lengths[1]} unlabelled batches."
        )
    return tf.data.Dataset.zip((labelled.repeat(), unlabelled.repeat())).take(max(lengths))
