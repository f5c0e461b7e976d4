"""mix_datasets (exact synthetic share) and perturb_label_maps."""

import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen.data import mix_datasets, mixed_length, perturb_label_maps


def _examples(count, value, size=4):
    images = np.full((count, size, size, 3), value, "float32")
    masks = np.full((count, size, size), value, "int32")
    return tf.data.Dataset.from_tensor_slices((images, masks))


def _sources(dataset):
    """1 for each synthetic example (value 1), 0 for each real one, in order."""
    return [int(mask[0, 0]) for _, mask in dataset]


@pytest.mark.parametrize(
    "ratio, expected",
    [
        # floor(n * ratio) of the first n examples are synthetic, worked out by hand.
        (0.25, [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]),
        (0.5, [0, 1] * 10),
        (0.6, [0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1]),
    ],
)
def test_every_prefix_has_the_chosen_share(ratio, expected):
    mixed = mix_datasets(_examples(10, 0), _examples(3, 1), ratio)
    sources = _sources(mixed)
    assert sources == expected
    assert sources.count(0) == 10  # every real example once
    assert int(mixed.cardinality()) == len(expected) == mixed_length(10, ratio)
    for n in range(1, len(sources) + 1):
        assert sum(sources[:n]) == int(np.floor(n * ratio + 1e-9))


def test_batches_and_epochs_keep_the_share():
    mixed = mix_datasets(_examples(64, 0), _examples(5, 1), 0.25).batch(8)
    for _ in range(2):  # a second epoch restarts the same pattern
        shares = [float(np.mean(masks[:, 0, 0])) for _, masks in mixed]
        # 64 real + floor(64 * 0.25 / 0.75) = 21 synthetic = 85: ten full batches with
        # 2 synthetic each, then 5 examples (80..84) of which only 83 is synthetic.
        assert shares == [0.25] * 10 + [0.2]


def test_synthetic_examples_are_reused_and_reshuffled():
    real = _examples(30, 0)
    synthetic = tf.data.Dataset.from_tensor_slices(
        (
            np.zeros((4, 4, 4, 3), "float32"),
            np.arange(1, 5, dtype="int32")[:, None, None] * np.ones((4, 4, 4), "int32"),
        )
    )
    mixed = mix_datasets(real, synthetic, 0.5, seed=3)
    drawn = [int(mask[0, 0]) for _, mask in mixed if int(mask[0, 0])]
    assert len(drawn) == 30 and set(drawn) == {1, 2, 3, 4}


def test_ratio_zero_is_the_real_data_and_errors_are_clear():
    real = _examples(5, 0)
    assert _sources(mix_datasets(real, _examples(2, 1), 0.0)) == [0] * 5
    with pytest.raises(ValueError, match=r"synthetic_ratio must be a number in \[0, 1\)"):
        mix_datasets(real, _examples(2, 1), 1.0)
    with pytest.raises(ValueError, match="must be unbatched"):
        mix_datasets(real.batch(2), _examples(2, 1), 0.5)
    with pytest.raises(ValueError, match="real and synthetic examples differ"):
        mix_datasets(real, _examples(2, 1, size=8), 0.5)
    with pytest.raises(ValueError, match="no known length"):
        mix_datasets(real.filter(lambda image, mask: True), _examples(2, 1), 0.5)


def test_perturbations_keep_classes_and_shapes():
    masks = np.zeros((4, 16, 16), "int32")
    for index in range(4):
        masks[index, 2:6, 3:9] = index + 1  # one 4x6 rectangle of class index + 1
    out = perturb_label_maps(masks, seed=0, paste_probability=0.0).numpy()
    assert out.shape == masks.shape and out.dtype == masks.dtype
    for index in range(4):
        assert set(np.unique(out[index])) <= {0, index + 1}  # classes never change
    flipped = perturb_label_maps(masks, seed=0, max_shift=0.0, paste_probability=0.0).numpy()
    for index in range(4):  # flips alone keep every rectangle whole: 4x6, 24 pixels
        rows, cols = np.nonzero(flipped[index])
        assert len(rows) == 24 and (np.ptp(rows), np.ptp(cols)) == (3, 5)
    np.testing.assert_array_equal(perturb_label_maps(masks, seed=0, paste_probability=0.0), out)
    assert not np.array_equal(perturb_label_maps(masks, seed=1, paste_probability=0.0), out)
    pasted = perturb_label_maps(masks, seed=0, flip=False, max_shift=0.0, paste_probability=1.0)
    # No moves: each map gets the previous map's rectangle pasted over its own (same place).
    np.testing.assert_array_equal(pasted.numpy(), np.roll(masks, 1, axis=0))
    with pytest.raises(ValueError, match=r"masks must be \(B, H, W\)"):
        perturb_label_maps(masks[0])


def test_street_perturbations_flip_left_right_only_and_paste_only_objects():
    # Sky (3) on top, road (0) below, one car (5) per map at a different column.
    masks = np.zeros((8, 12, 12), "int32")
    masks[:, :5] = 3
    for index in range(8):
        masks[index, 7:9, index : index + 3] = 5
    flipped = perturb_label_maps(masks, seed=0, flip="horizontal", max_shift=0.0,
                                 paste_probability=0.0).numpy()  # fmt: skip
    assert (flipped[:, :5] == 3).all() and (flipped[:, 5:] != 3).all()  # sky stays on top
    mirrored = [i for i in range(8) if not np.array_equal(flipped[i], masks[i])]
    assert mirrored  # some maps were flipped, left-right:
    for i in mirrored:
        np.testing.assert_array_equal(flipped[i], masks[i, :, ::-1])
    pasted = perturb_label_maps(masks, seed=0, flip=False, max_shift=0.0, paste_probability=1.0,
                                paste_classes=[5]).numpy()  # fmt: skip
    # Each map keeps its own sky and car and gains the previous map's car, nothing else.
    donors = np.roll(masks, 1, axis=0)
    np.testing.assert_array_equal(pasted, np.where(donors == 5, 5, masks))
    with pytest.raises(ValueError, match="flip must be True, False or 'horizontal'"):
        perturb_label_maps(masks, flip="vertical")


def test_perturbation_shift_moves_by_at_most_max_shift():
    masks = np.zeros((8, 20, 20), "int32")
    masks[:, 8:12, 8:12] = 1
    out = perturb_label_maps(masks, seed=2, flip=False, max_shift=0.1, paste_probability=0).numpy()
    for mask in out:
        rows, cols = np.nonzero(mask)
        assert len(rows) == 16
        assert abs(rows.min() - 8) <= 2 and abs(cols.min() - 8) <= 2


def test_load_segmentation_unbatched():
    data = keras_segen.data.load_segmentation(
        "shapes", "train", 16, batch_size=None, num_examples=3
    )
    shapes = [(tuple(image.shape), tuple(mask.shape)) for image, mask in data]
    assert shapes == [((16, 16, 3), (16, 16))] * 3
