"""The embedded shapes dataset."""

import numpy as np
import pytest

import keras_segen
from keras_segen.data.shape_drawing import _shape_mask, shapes_arrays, shapes_example


def test_same_seed_same_examples_and_splits_are_disjoint():
    a_images, a_masks = shapes_arrays(4, 32, seed=3)
    b_images, b_masks = shapes_arrays(4, 32, seed=3)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_masks, b_masks)
    assert not np.array_equal(a_images, shapes_arrays(4, 32, seed=4)[0])
    assert not np.array_equal(a_images, shapes_arrays(4, 32, seed=3, start=10**6)[0])


def test_every_class_occurs_and_labels_are_in_range():
    _, masks = shapes_arrays(20, 64)
    assert set(np.unique(masks)) == {0, 1, 2, 3}
    _, binary = shapes_arrays(5, 32, num_classes=2)
    assert set(np.unique(binary)) == {0, 1}
    _, three = shapes_arrays(10, 32, num_classes=3)
    assert set(np.unique(three)) == {0, 1, 2}


@pytest.mark.parametrize("seed", range(5))
def test_circle_and_rectangle_geometry(seed):
    circle = _shape_mask(np.random.default_rng(seed), "circle", 256)
    ys, xs = np.nonzero(circle)
    centre_y, centre_x = ys.mean(), xs.mean()
    radius = np.sqrt(circle.sum() / np.pi)  # from the area, pi r^2
    distance = np.hypot(ys + 0.5 - centre_y - 0.5, xs + 0.5 - centre_x - 0.5)
    if ys.min() > 0 and xs.min() > 0 and ys.max() < 255 and xs.max() < 255:  # not cut
        assert distance.max() <= radius + 1.5
    rectangle = _shape_mask(np.random.default_rng(seed), "rectangle", 256)
    triangle = _shape_mask(np.random.default_rng(seed), "triangle", 256)
    assert rectangle.any() and triangle.any()


def test_dataset_api():
    examples = list(keras_segen.data.shapes(3, image_size=(24, 16)))
    image, mask = examples[0]
    assert image.shape == (24, 16, 3) and image.dtype.name == "float32"
    assert mask.shape == (24, 16) and mask.dtype.name == "int32"
    assert 0.0 <= float(image.numpy().min()) and float(image.numpy().max()) <= 1.0
    images = list(keras_segen.data.shapes(2, image_size=16, images_only=True))
    assert images[0].shape == (16, 16, 3)
    assert images[0].numpy().min() >= -1.0 and images[0].numpy().max() <= 1.0
    assert images[0].numpy().min() < 0.0  # scaled to [-1, 1], not [0, 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_classes=5), "2, 3 or 4 classes"),
        (dict(num_examples=0), "num_examples must be >= 1"),
        (dict(image_size=0), "image_size must be a positive int"),
        (dict(split="dev"), "split must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.data.shapes(**{"num_examples": 2, **kwargs})


def test_shapes_coloured_gives_each_class_its_colour():
    """circle red, rectangle green, triangle blue, background grey: the label decides colour."""
    from keras_segen.data.shape_drawing import CLASS_COLOURS

    for index in range(5):
        image, mask = shapes_example(index, 64, colour_by_class=True)
        for label in np.unique(mask):
            mean = image[mask == label].mean(axis=0)
            assert np.abs(mean - CLASS_COLOURS[label]).max() < 0.2
            if label:
                assert int(np.argmax(mean)) == label - 1  # R, G, B for classes 1, 2, 3
    dataset, info = keras_segen.data.load_segmentation(
        "shapes_coloured", "test", 32, 2, num_examples=2, with_info=True
    )
    assert info.source == "shapes_coloured" and info.num_classes == 4
    images, masks = next(iter(dataset))
    expected, _ = shapes_example(2 * 10**6, 32, colour_by_class=True)
    np.testing.assert_allclose(images[0], expected, atol=1 / 255 + 1e-6)
