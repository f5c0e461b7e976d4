"""Mixing generated (image, mask) pairs into real training data, and new label maps for them."""

import math

import tensorflow as tf


def _check_ratio(ratio):
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ValueError(f"synthetic_ratio must be a number in [0, 1); got {ratio!r}.")
    return float(ratio)


def _is_synthetic(index, ratio):
    """Whether example ``index`` is synthetic: ``floor(n * ratio)`` of the first n are."""
    index = tf.cast(index, tf.float64)
    return tf.floor((index + 1.0) * ratio) > tf.floor(index * ratio)


def mixed_length(num_real, ratio):
    """Examples in one pass of ``mix_datasets`` over ``num_real`` real examples.

    Example:
        >>> keras_segen.data.mixed_length(10, 0.25)
        13
    """
    ratio = _check_ratio(ratio)
    length = num_real + math.floor(num_real * ratio / (1.0 - ratio))
    # Step to where the (num_real + 1)-th real example would be due; float rounding of
    # the closed form can be off by one either way.
    real_before = lambda n: n - math.floor(n * ratio)  # noqa: E731
    while real_before(length) > num_real:
        length -= 1
    while real_before(length + 1) <= num_real:
        length += 1
    return length


def mix_datasets(real, synthetic, synthetic_ratio, seed=0):
    """Interleaves unbatched ``real`` and ``synthetic`` examples so a fixed fraction is synthetic.

    Of the first ``n`` examples exactly ``floor(n * synthetic_ratio)`` are synthetic, in
    every prefix and every epoch, so every batch has (up to rounding) the chosen share. One
    pass holds every real example once; the synthetic examples are reshuffled and repeated
    as needed.

    Args:
        real: unbatched ``(image, mask)`` dataset of known length.
        synthetic: unbatched ``(image, mask)`` dataset with the same element structure.
        synthetic_ratio: fraction of synthetic examples, in ``[0, 1)``.
        seed: seed of the synthetic reshuffle.

    Returns:
        The unbatched mixed dataset, with a known length (``mixed_length``).

    Example:
        >>> masks = tf.zeros((6, 8, 8), tf.int32)
        >>> real = tf.data.Dataset.from_tensor_slices((tf.zeros((6, 8, 8, 3)), masks))
        >>> synthetic = tf.data.Dataset.from_tensor_slices((tf.ones((2, 8, 8, 3)), masks[:2]))
        >>> mixed = keras_segen.data.mix_datasets(real, synthetic, 0.5)
        >>> [int(image[0, 0, 0]) for image, mask in mixed]  # 1: a synthetic example
        [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    """
    ratio = _check_ratio(synthetic_ratio)
    for name, dataset in (("real", real), ("synthetic", synthetic)):
        image_spec = dataset.element_spec[0]
        if image_spec.shape.rank != 3:
            raise ValueError(
                f"mix_datasets: {name} must be unbatched (image rank 3); its images have shape "
                f"{image_spec.shape}. Call .unbatch() first."
            )
    if real.element_spec != synthetic.element_spec:
        raise ValueError(
            "mix_datasets: real and synthetic examples differ: "
            f"{real.element_spec} vs {synthetic.element_spec}."
        )
    num_real = int(real.cardinality())
    if num_real < 0:
        raise ValueError(
            "mix_datasets: the real dataset has no known length; use "
            "dataset.apply(tf.data.experimental.assert_cardinality(n))."
        )
    if ratio == 0:
        return real
    synthetic = synthetic.shuffle(1000, seed=seed, reshuffle_each_iteration=True).repeat()
    selector = tf.data.Dataset.range(2**62).map(
        lambda index: tf.cast(_is_synthetic(index, ratio), tf.int64)
    )
    mixed = tf.data.Dataset.choose_from_datasets(
        [real, synthetic], selector, stop_on_empty_dataset=True
    )
    return mixed.apply(tf.data.experimental.assert_cardinality(mixed_length(num_real, ratio)))


def _shift(masks, offsets, background):
    """Translates each ``(H, W)`` mask by its ``(dy, dx)``; uncovered pixels get ``background``."""
    height, width = tf.shape(masks)[1], tf.shape(masks)[2]
    rows = tf.range(height)[None, :, None] - offsets[:, 0, None, None]
    cols = tf.range(width)[None, None, :] - offsets[:, 1, None, None]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    rows = tf.clip_by_value(rows, 0, height - 1)
    cols = tf.clip_by_value(cols, 0, width - 1)
    batch = tf.broadcast_to(tf.range(tf.shape(masks)[0])[:, None, None], tf.shape(inside))
    indices = tf.stack(
        [batch, tf.broadcast_to(rows, tf.shape(inside)), tf.broadcast_to(cols, tf.shape(inside))],
        axis=-1,
    )
    return tf.where(inside, tf.gather_nd(masks, indices), tf.cast(background, masks.dtype))


def perturb_label_maps(
    masks, seed=0, flip=True, max_shift=0.25, paste_probability=0.5, background=0,
    paste_classes=None,
):
    """New plausible label maps from a batch of real ones, for label -> image synthesis.

    Each map is flipped left-right and up-down at random (``flip``), translated by up to
    ``max_shift`` of its size (uncovered pixels become ``background``) and, with
    ``paste_probability``, gets the non-background regions of another map of the batch
    (itself flipped and translated) pasted on top. Classes are never changed, so every
    region keeps the shape statistics of its class. For scenes with an up and a down
    (streets), ``flip="horizontal"`` and ``paste_classes`` (the objects, e.g. vehicles and
    people) keep the layout plausible.

    Args:
        masks: int ``(B, H, W)`` label maps.
        seed: int seed (stateless: the same seed gives the same maps).
        flip: ``True`` (random left-right and up-down flips), ``"horizontal"`` (left-right
            only) or ``False``.
        max_shift: largest translation as a fraction of H and W.
        paste_probability: chance of pasting another map's objects.
        background: the class that fills uncovered pixels (and, without ``paste_classes``,
            the one class that is not pasted).
        paste_classes: the classes that are pasted (default: every class but
            ``background``).

    Returns:
        int ``(B, H, W)`` label maps of the input dtype.

    Example:
        >>> masks = np.zeros((4, 32, 32), "int32")
        >>> masks[:, 8:16, 8:16] = 2  # a square of class 2 in every map
        >>> new_masks = keras_segen.data.perturb_label_maps(masks, seed=1)
        >>> new_masks.shape, np.unique(new_masks).tolist()
        (TensorShape([4, 32, 32]), [0, 2])
    """
    masks = tf.convert_to_tensor(masks)
    if masks.shape.rank != 3:
        raise ValueError(f"perturb_label_maps: masks must be (B, H, W); got {masks.shape}.")
    if flip not in (True, False, "horizontal"):
        raise ValueError(f"perturb_label_maps: flip must be True, False or 'horizontal'; "
                         f"got {flip!r}.")  # fmt: skip
    if not 0 <= max_shift <= 1 or not 0 <= paste_probability <= 1:
        raise ValueError(
            "perturb_label_maps: max_shift and paste_probability must be in [0, 1]; got "
            f"{max_shift!r} and {paste_probability!r}."
        )
    batch, height, width = tf.shape(masks)[0], tf.shape(masks)[1], tf.shape(masks)[2]
    seeds = tf.random.split(tf.constant([seed, 0], tf.int64), 7)

    def moved(maps, seed_flip_lr, seed_flip_ud, seed_shift):
        if flip:
            lr = tf.random.stateless_uniform([batch], seed_flip_lr) < 0.5
            ud = tf.random.stateless_uniform([batch], seed_flip_ud) < 0.5
            maps = tf.where(lr[:, None, None], tf.reverse(maps, [2]), maps)
            if flip is True:
                maps = tf.where(ud[:, None, None], tf.reverse(maps, [1]), maps)
        limits = tf.cast(tf.stack([height, width]), tf.float32) * max_shift
        offsets = tf.random.stateless_uniform([batch, 2], seed_shift, -1.0, 1.0) * limits
        return _shift(maps, tf.cast(tf.round(offsets), tf.int32), background)

    result = moved(masks, *seeds[:3])
    donors = moved(tf.roll(masks, shift=1, axis=0), *seeds[3:6])
    paste = tf.random.stateless_uniform([batch], seeds[6]) < paste_probability
    if paste_classes is None:
        objects = donors != background
    else:
        classes = tf.constant(list(paste_classes), masks.dtype)
        objects = tf.reduce_any(donors[..., None] == classes, axis=-1)
    pasted = tf.where(objects, donors, result)
    return tf.where(paste[:, None, None], pasted, result)
