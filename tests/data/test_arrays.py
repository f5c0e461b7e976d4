"""The NumPy data path gives the tf.data pipeline's batches, as a keras.utils.PyDataset."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen.data import ArrayBatches, load_images, load_segmentation
from keras_segen.data.arrays import first_examples, resize_masks, steps_per_epoch
from tests.data.fixtures import write_generic


def _batches(dataset):
    return [tuple(np.asarray(part) for part in batch) for batch in dataset]


@pytest.mark.parametrize("image_size", [32, (24, 40)])
def test_shapes_batches_equal_the_tf_data_pipeline(image_size):
    options = dict(image_size=image_size, batch_size=4, num_examples=6, shuffle=False)
    arrays = load_segmentation("shapes", "validation", pipeline="numpy", **options)
    pipeline = load_segmentation("shapes", "validation", pipeline="tf.data", **options)
    assert isinstance(arrays, keras.utils.PyDataset) and len(arrays) == 2
    for (images, masks), (tf_images, tf_masks) in zip(_batches(arrays), _batches(pipeline)):
        assert images.dtype == np.float32 and masks.dtype == np.int32
        np.testing.assert_array_equal(images, tf_images)
        np.testing.assert_array_equal(masks, tf_masks)


def test_folder_batches_equal_the_tf_data_pipeline(tmp_path):
    root = write_generic(tmp_path / "data")
    options = dict(image_size=(20, 28), batch_size=3, shuffle=False, with_info=True)
    arrays, info = load_segmentation(str(root), "train", pipeline="numpy", **options)
    pipeline, tf_info = load_segmentation(str(root), "train", pipeline="tf.data", **options)
    assert info == tf_info
    for (images, masks), (tf_images, tf_masks) in zip(_batches(arrays), _batches(pipeline)):
        np.testing.assert_allclose(images, tf_images, atol=1e-6)
        np.testing.assert_array_equal(masks, tf_masks)


def test_labelled_images_equal_the_tf_data_pipeline():
    options = dict(image_size=(24, 40), batch_size=4, labels=True, num_examples=6, shuffle=False)
    for channels, tolerance in ((3, 0.0), (1, 2 / 255)):  # grey: float vs uint8 rounding
        arrays = load_images("shapes", channels=channels, pipeline="numpy", **options)
        pipeline = load_images("shapes", channels=channels, pipeline="tf.data", **options)
        for (images, labels), (tf_images, tf_labels) in zip(_batches(arrays), _batches(pipeline)):
            assert images.shape[-1] == channels and -1 <= images.min() <= images.max() <= 1
            np.testing.assert_allclose(images, tf_images, atol=tolerance)
            np.testing.assert_array_equal(labels, tf_labels)


@pytest.mark.parametrize(
    "size, target", [((7, 9), (16, 5)), ((33, 20), (10, 64)), ((5, 5), (5, 12))]
)
def test_nearest_mask_resize_is_tensorflows_rule(size, target):
    masks = np.random.default_rng(0).integers(0, 50, (2, *size))
    expected = tf.image.resize(masks[..., None], target, "nearest").numpy()[..., 0]
    np.testing.assert_array_equal(resize_masks(masks, target), expected)


def test_array_batches_shuffle_each_epoch_and_keep_pairs_together():
    x = np.arange(10)
    batches = ArrayBatches((x, x * 10), batch_size=4, shuffle=True, seed=1)
    first = np.concatenate([batches[i][0] for i in range(len(batches))])
    batches.on_epoch_end()
    second = np.concatenate([batches[i][0] for i in range(len(batches))])
    assert sorted(first) == sorted(second) == list(range(10)) and list(first) != list(second)
    assert all((b[1] == b[0] * 10).all() for b in batches)
    assert steps_per_epoch(batches) == 3 and first_examples(batches, 2)[1].tolist() == [0, 10]
    with pytest.raises(IndexError):
        batches[3]
    with pytest.raises(ValueError, match="different lengths"):
        ArrayBatches((x, x[:3]), 2)


def test_numpy_pipeline_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="without augment; use pipeline='tf.data'"):
        load_segmentation("shapes", augment=True, num_examples=4, pipeline="numpy")
    with pytest.raises(ValueError, match="pipeline must be one of"):
        load_segmentation("shapes", pipeline="arrays")
    with pytest.raises(ValueError, match="augment='geometric' needs the tf.data pipeline"):
        keras_segen.train(epochs=1, pipeline="numpy", augment="geometric", out="unused")


def test_runs_on_the_numpy_pipeline_default_to_no_augmentation():
    from keras_segen.runs import RunConfig
    from keras_segen.runs.segmentation_checks import check_segmentation_config

    numpy = RunConfig.from_kwargs("segmentation", pipeline="numpy", out="unused")
    check_segmentation_config(numpy)
    assert numpy.data.augment == "none"
    with_tf = RunConfig.from_kwargs("segmentation", pipeline="tf.data", out="unused")
    check_segmentation_config(with_tf)
    assert with_tf.data.augment == "geometric"
