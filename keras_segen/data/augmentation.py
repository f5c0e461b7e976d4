"""Joint augmentation of an image and its mask: one geometric transform for both.

Flip, rotation, scale-and-crop and translation are folded into one projective transform,
applied with bilinear interpolation to the image and nearest neighbour to the mask. Pixels
that the transform brings in from outside the image get the ignore label, so they are not
taught as background. Colour jitter touches the image only. Every random draw is
stateless from a per-example seed, so a pipeline is reproducible under its seed.
"""

import math

import tensorflow as tf


def _transform(seed, height, width, max_rotation, scale_range, flip):
    """The 8 projective parameters mapping output pixels to input pixels."""
    seeds = tf.random.split(seed, 5)
    angle = tf.random.stateless_uniform([], seeds[0], -1.0, 1.0) * max_rotation * math.pi / 180
    scale = tf.random.stateless_uniform([], seeds[1], scale_range[0], scale_range[1])
    mirror = tf.where(tf.random.stateless_uniform([], seeds[2]) < 0.5, -1.0, 1.0) if flip else 1.0
    # Zooming in by `scale` leaves a margin that the crop may move within.
    margin = tf.maximum(1.0 - 1.0 / scale, 0.0) / 2.0
    shift_y = tf.random.stateless_uniform([], seeds[3], -1.0, 1.0) * margin * height
    shift_x = tf.random.stateless_uniform([], seeds[4], -1.0, 1.0) * margin * width
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # input = centre + R(angle) / scale * diag(mirror, 1) * (output - centre) + shift
    a0, a1 = cos * mirror, -sin
    b0, b1 = sin * mirror, cos
    a2 = cx + shift_x - a0 * cx - a1 * cy
    b2 = cy + shift_y - b0 * cx - b1 * cy
    return tf.stack([a0, a1, a2, b0, b1, b2, 0.0, 0.0])[None]


def _apply(image, transform, interpolation, fill_value):
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None],
        transforms=transform,
        output_shape=tf.shape(image)[:2],
        interpolation=interpolation,
        fill_mode="CONSTANT",
        fill_value=fill_value,
    )[0]


def augment(
    image,
    mask,
    seed,
    flip=True,
    max_rotation=15.0,
    scale_range=(1.0, 1.3),
    colour=0.1,
    ignore_index=255,
):
    """Augments one ``(image HxWx3 float [0, 1], mask HxW int)`` pair.

    Args:
        image: float32 image in [0, 1].
        mask: int label mask.
        seed: ``[2]`` int seed; the same seed gives the same result.
        flip: random horizontal flip.
        max_rotation: rotation drawn uniformly in ``[-max_rotation, max_rotation]`` degrees.
        scale_range: zoom factor range; values above 1 crop into the image.
        colour: strength of brightness/contrast/saturation/hue jitter (0 disables it).
        ignore_index: label given to pixels brought in from outside the image.

    Returns:
        The augmented ``(image, mask)``, same shapes and dtypes.

    Example:
        >>> image, mask = keras_segen.data.shapes_example(0, image_size=64)
        >>> new_image, new_mask = keras_segen.data.augment(image, mask, seed=[1, 2])
        >>> new_image.shape, new_mask.dtype, set(np.unique(new_mask)) <= {0, 1, 2, 3, 255}
        (TensorShape([64, 64, 3]), tf.int32, True)
    """
    seed = tf.cast(seed, tf.int64)
    shape = tf.cast(tf.shape(image), tf.float32)
    transform = _transform(seed, shape[0], shape[1], max_rotation, scale_range, flip)
    mask_dtype = mask.dtype
    image = _apply(image, transform, "BILINEAR", 0.0)
    mask = _apply(tf.cast(mask, tf.int32)[..., None], transform, "NEAREST", ignore_index)[..., 0]
    if colour:
        seeds = tf.random.split(tf.random.fold_in(seed, 1), 4)
        image = tf.image.stateless_random_brightness(image, colour, seeds[0])
        image = tf.image.stateless_random_contrast(image, 1 - 2 * colour, 1 + 2 * colour, seeds[1])
        if image.shape[-1] == 3:
            image = tf.image.stateless_random_saturation(
                image, 1 - 2 * colour, 1 + 2 * colour, seeds[2]
            )
            image = tf.image.stateless_random_hue(image, colour / 2, seeds[3])
    return tf.clip_by_value(image, 0.0, 1.0), tf.cast(mask, mask_dtype)
