"""The one preprocessing used by training, evaluation, export calibration and the runner.

``preprocess_image`` and ``resize_mask`` are TensorFlow ops (tf.data and graphs);
``keras_segen.data.arrays`` does the same in NumPy without TensorFlow.
"""


def image_size_pair(image_size):
    """``128`` or ``(128, 96)`` -> ``(128, 128)`` / ``(128, 96)``; else ValueError."""
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(
            f"image_size must be a positive int or (height, width); got {image_size!r}."
        )
    return size


def preprocess_image(image, image_size):
    """Resizes (bilinear) an ``HxWxC`` or ``BxHxWxC`` image to ``image_size``, float32 in [0, 1].

    uint8 images are divided by 255; float images are taken to be in [0, 1] already.

    Example:
        >>> image = tf.fill((48, 64, 3), tf.constant(255, tf.uint8))  # e.g. from tf.io.decode_png
        >>> x = keras_segen.data.preprocess_image(image, 32)
        >>> x.shape, x.dtype, float(tf.reduce_max(x))
        (TensorShape([32, 32, 3]), tf.float32, 1.0)
    """
    import tensorflow as tf

    height, width = image_size_pair(image_size)
    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255.0
    image = tf.image.resize(tf.cast(image, tf.float32), (height, width), method="bilinear")
    return tf.clip_by_value(image, 0.0, 1.0)


def resize_mask(mask, image_size):
    """Resizes an ``HxW`` (or ``HxWx1``) label mask with nearest neighbour; int32 ``HxW``.

    Example:
        >>> mask = tf.constant([[0, 1], [2, 3]])
        >>> keras_segen.data.resize_mask(mask, 4).numpy().tolist()
        [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    import tensorflow as tf

    height, width = image_size_pair(image_size)
    if mask.shape.rank == 2:
        mask = mask[..., None]
    mask = tf.image.resize(mask, (height, width), method="nearest")
    return tf.cast(mask[..., 0], tf.int32)
