"""The embedded street scenes: seeded, every class drawn, perspective and occlusion, and
loadable by name like shapes."""

import numpy as np
import pytest

import keras_segen
from keras_segen.data.street_drawing import (
    BUILDING,
    PERSON,
    ROAD,
    SIDEWALK,
    SKY,
    STREET_CLASSES,
    VEHICLE,
    street_arrays,
)  # fmt: skip


@pytest.fixture(scope="module")
def scenes():
    return street_arrays(24, 64, seed=1)


def test_same_seed_same_scenes_and_splits_are_disjoint(scenes):
    images, masks = street_arrays(3, 64, seed=1)
    np.testing.assert_array_equal(images, scenes[0][:3])
    np.testing.assert_array_equal(masks, scenes[1][:3])
    assert not np.array_equal(images, street_arrays(3, 64, seed=2)[0])
    assert not np.array_equal(images, street_arrays(3, 64, seed=1, start=10**6)[0])


def test_every_class_is_drawn_and_labels_are_in_range(scenes):
    _, masks = scenes
    assert set(np.unique(masks)) == set(range(len(STREET_CLASSES)))
    shares = np.bincount(masks.ravel(), minlength=8) / masks.size
    assert shares[ROAD] > 0.1 and shares[BUILDING] > 0.1 and shares[SKY] > 0.05
    assert 0 < shares[PERSON] < shares[VEHICLE]  # people are the small, rare class


def test_perspective_sky_on_top_ground_below_and_the_road_narrows_upwards(scenes):
    _, masks = scenes
    top, bottom = masks[:, 0], masks[:, -1]
    assert np.isin(top, (SKY, BUILDING, 4, 7)).all()  # nothing stands on the sky line
    assert (bottom != SKY).all()
    road_width = (masks == ROAD).sum(axis=2)  # per image, per row
    rows = [r for r in range(masks.shape[1]) if (road_width[:, r] > 0).all()]
    assert road_width[:, rows[-1]].mean() > 3 * road_width[:, rows[0]].mean()
    assert ((masks == SIDEWALK) | (masks == ROAD)).any(axis=(1, 2)).all()


def test_cars_stand_on_the_ground_and_later_regions_hide_earlier_ones():
    from keras_segen.data.street_drawing import _Canvas

    image, mask = keras_segen.data.street_example(5, image_size=64, seed=0)
    assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    cars = mask == VEHICLE
    below = np.roll(cars, 1, axis=0) & ~cars  # the pixels just under each car
    assert cars.any() and not np.isin(mask[below], (SKY, BUILDING)).any()
    canvas = _Canvas(8)  # objects are painted far to near: the nearer one wins
    far, near = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    far[2:6, 2:6], near[4:8, 4:8] = True, True
    canvas.paint(far, VEHICLE, (1.0, 0.0, 0.0))
    canvas.paint(near, PERSON, (0.0, 0.0, 1.0))
    assert canvas.mask[5, 5] == PERSON and canvas.mask[3, 3] == VEHICLE
    np.testing.assert_allclose(canvas.image[5, 5], (0, 0, 1))


def test_load_segmentation_by_name_with_cityscapes_colours():
    dataset, info = keras_segen.data.load_segmentation(
        "streets", image_size=32, batch_size=4, num_examples=8, with_info=True
    )
    images, masks = next(iter(dataset))
    assert tuple(images.shape) == (4, 32, 32, 3) and tuple(masks.shape) == (4, 32, 32)
    assert info.class_names == STREET_CLASSES and info.num_classes == 8
    assert info.class_colours[ROAD] == (128, 64, 128)  # Cityscapes' road
    with pytest.raises(ValueError, match="streets has 8 classes; got num_classes=4"):
        keras_segen.data.load_segmentation("streets", num_classes=4, num_examples=2)
    with pytest.raises(ValueError, match="'streets' scenes have no image labels"):
        keras_segen.data.load_images("streets", labels=True, num_examples=2)


def test_unlabelled_street_images_for_generation_keep_the_street_classes():
    images, info = keras_segen.data.load_images(
        "streets", image_size=32, batch_size=4, num_examples=4, with_info=True
    )
    batch = next(iter(images))
    assert tuple(batch.shape) == (4, 32, 32, 3) and float(batch.numpy().min()) >= -1
    assert info.class_names == STREET_CLASSES


def test_fog_thickens_towards_the_horizon_and_night_keeps_the_lights_on():
    from keras_segen.data.street_drawing import _Canvas, _weather

    canvas = _Canvas(16)
    canvas.mask[:] = ROAD
    canvas.image[:] = 0.2
    canvas.image[8, 8] = 0.9  # a lit window
    rng = np.random.default_rng(0)
    clear = _weather(canvas, rng, "clear", horizon=4)
    np.testing.assert_array_equal(clear, canvas.image)
    fog = _weather(canvas, rng, "fog", horizon=4)
    assert fog[:4].min() > 0.4  # at and above the horizon: mostly haze (0.6-0.85)
    # Near rows (the bottom row is 96% of the way to the camera) are almost unchanged.
    assert abs(fog[-1].mean() - 0.2) < 0.08 and fog[-1].mean() < fog[6].mean() < fog[3].mean()
    night = _weather(canvas, rng, "night", horizon=4)
    np.testing.assert_allclose(night[8, 8], [0.9, 0.855, 0.54])  # lights stay bright, warm
    assert night[0, 0].max() < 0.2 * 0.3 * 1.3 + 1e-6 and night[0, 0, 2] > night[0, 0, 0]
