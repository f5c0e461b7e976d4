"""Joint augmentation: one transform for image and mask, masks by nearest neighbour."""

import numpy as np
import tensorflow as tf

from keras_segen.data import augment
from keras_segen.data.shape_drawing import shapes_example


def _example():
    _, mask = shapes_example(0, 64)
    # The image encodes the label, so that image and mask can be compared after a transform.
    image = np.repeat((mask / 3.0)[..., None], 3, axis=-1).astype("float32")
    return tf.constant(image), tf.constant(mask)


def test_no_op_settings_return_the_input():
    image, mask = _example()
    out_image, out_mask = augment(
        image,
        mask,
        tf.constant([1, 2]),
        flip=False,
        max_rotation=0.0,
        scale_range=(1.0, 1.0),
        colour=0.0,
    )
    np.testing.assert_allclose(out_image.numpy(), image.numpy(), atol=1e-6)
    np.testing.assert_array_equal(out_mask.numpy(), mask.numpy())


def test_image_and_mask_move_together():
    image, mask = _example()
    for seed in range(5):
        out_image, out_mask = augment(
            image, mask, tf.constant([seed, 7]), max_rotation=30.0, colour=0.0
        )
        out_mask = out_mask.numpy()
        inside = out_mask != 255
        decoded = np.round(out_image.numpy()[..., 0] * 3)
        assert (decoded[inside] == out_mask[inside]).mean() > 0.95


def test_masks_keep_their_labels_and_outside_pixels_are_ignored():
    image, mask = _example()
    _, out_mask = augment(
        image, mask, tf.constant([3, 3]), max_rotation=45.0, scale_range=(1.0, 1.0)
    )
    values = set(np.unique(out_mask.numpy()))
    assert values <= set(np.unique(mask.numpy())) | {255}
    assert out_mask.dtype == mask.dtype


def test_rotating_by_45_degrees_fills_the_corners_with_the_ignore_label():
    image, mask = tf.zeros((32, 32, 3)), tf.zeros((32, 32), tf.int32)
    seen = set()
    for seed in range(10):
        _, out_mask = augment(
            image,
            mask,
            tf.constant([seed, 0]),
            max_rotation=45.0,
            scale_range=(1.0, 1.0),
            flip=False,
        )
        seen.add(int(out_mask[0, 0]))
    assert 255 in seen


def test_deterministic_under_a_seed():
    image, mask = _example()
    first = augment(image, mask, tf.constant([5, 6]))
    again = augment(image, mask, tf.constant([5, 6]))
    other = augment(image, mask, tf.constant([6, 6]))
    np.testing.assert_array_equal(first[0].numpy(), again[0].numpy())
    np.testing.assert_array_equal(first[1].numpy(), again[1].numpy())
    assert not np.array_equal(first[0].numpy(), other[0].numpy())


def test_colour_jitter_changes_only_the_image():
    image, mask = _example()
    out_image, out_mask = augment(
        image + 0.1,
        mask,
        tf.constant([1, 1]),
        flip=False,
        max_rotation=0.0,
        scale_range=(1.0, 1.0),
        colour=0.2,
    )
    np.testing.assert_array_equal(out_mask.numpy(), mask.numpy())
    assert not np.allclose(out_image.numpy(), (image + 0.1).numpy())
    assert out_image.numpy().min() >= 0.0 and out_image.numpy().max() <= 1.0
