"""SegNet: max-unpooling with the encoder's pooling indices (Badrinarayanan et al. 2017),
and the mask form of the ``edge`` preset."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import (
    MaskUnpooling2D,
    MaxPoolingWithArgmax2D,
    MaxPoolingWithMask2D,
    MaxUnpooling2D,
)

IMAGE = np.array(
    [[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 6, 7], [9, 2, 7, 7]],
    dtype="float32",
)[None, :, :, None]


def test_pooling_records_the_position_of_each_maximum():
    pooled, indices = MaxPoolingWithArgmax2D()(IMAGE)
    np.testing.assert_array_equal(np.asarray(pooled)[0, :, :, 0], [[5, 8], [9, 7]])
    # Positions 2 * row + column in each window; the 7s tie and the first one wins.
    np.testing.assert_array_equal(np.asarray(indices)[0, :, :, 0], [[1, 2], [2, 1]])


def test_unpooling_puts_values_back_where_the_maxima_were():
    _, indices = MaxPoolingWithArgmax2D()(IMAGE)
    values = np.array([[10, 20], [30, 40]], dtype="float32")[None, :, :, None]
    unpooled = np.asarray(MaxUnpooling2D()([values, indices]))[0, :, :, 0]
    np.testing.assert_array_equal(
        unpooled, [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 40], [30, 0, 0, 0]]
    )


def test_unpooling_the_pooled_map_keeps_exactly_the_maxima():
    x = np.random.default_rng(0).random((2, 8, 6, 3)).astype("float32")
    pooled, indices = MaxPoolingWithArgmax2D()(x)
    restored = np.asarray(MaxUnpooling2D()([pooled, indices]))
    kept = restored != 0
    np.testing.assert_array_equal(restored[kept], x[kept])
    assert kept.sum() == x.size // 4  # one value per 2x2 window


def test_decoder_uses_the_indices_of_the_matching_encoder_block():
    model = keras_segen.segnet((64, 64, 3), num_classes=3, filters=4)
    for block in range(1, 6):
        unpool = model.get_layer(f"decoder{block}_unpool")
        assert isinstance(unpool, MaxUnpooling2D)
        indices_source = unpool.input[1]._keras_history.operation.name
        assert indices_source == f"encoder{block}_pool"
    learned_upsampling = (keras.layers.Conv2DTranspose, keras.layers.UpSampling2D)
    assert not any(isinstance(layer, learned_upsampling) for layer in model.layers)


def test_encoder_is_the_13_convolutions_of_vgg16():
    model = keras_segen.segnet((32, 32, 3), num_classes=3)
    encoder_convs = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.name.startswith("encoder")
    ]
    assert [layer.filters for layer in encoder_convs] == [64] * 2 + [128] * 2 + [256] * 3 + [
        512
    ] * 6
    assert model.get_layer("decoder1_conv2_conv").filters == 64
    assert model.get_layer("decoder2_conv1_conv").filters == 64  # narrows to block 1's width
    assert model.get_layer("classifier").kernel_size == (3, 3)


def test_mask_marks_the_maxima_and_every_tied_one():
    pooled, mask = MaxPoolingWithMask2D()(IMAGE)
    np.testing.assert_array_equal(np.asarray(pooled)[0, :, :, 0], [[5, 8], [9, 7]])
    # As the indices above, except that both tied 7s of the last window are kept.
    np.testing.assert_array_equal(
        np.asarray(mask)[0, :, :, 0], [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 1, 1]]
    )
    values = np.array([[10, 20], [30, 40]], dtype="float32")[None, :, :, None]
    unpooled = np.asarray(MaskUnpooling2D()([values, mask]))[0, :, :, 0]
    np.testing.assert_array_equal(
        unpooled, [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 40], [30, 0, 40, 40]]
    )


def test_mask_ramps_over_one_over_sharpness_below_the_maximum():
    window = np.array([[2.0, 1.9995], [1.999, 0.0]], "float32")[None, :, :, None]
    _, mask = MaxPoolingWithMask2D(sharpness=1000)(window)
    # relu(1 - 1000 * (2 - x)): 1, 0.5, 0, 0
    np.testing.assert_allclose(np.asarray(mask)[0, :, :, 0], [[1, 0.5], [0, 0]], atol=1e-3)


def test_no_gradient_flows_through_the_mask():
    import tensorflow as tf

    x = tf.constant(np.array([[2.0, 1.9995], [0.0, 0.0]], "float32")[None, :, :, None])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        pooled, mask = MaxPoolingWithMask2D()(x)
        mask_total, pooled_total = tf.reduce_sum(mask), tf.reduce_sum(pooled)
    assert tape.gradient(mask_total, x) is None
    # The pooled values keep max pooling's gradient: 1 at the maximum only.
    pooled_gradient = tape.gradient(pooled_total, x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(pooled_gradient, [[1, 0], [0, 0]])


def test_mask_unpooling_equals_index_unpooling_when_maxima_are_unique():
    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 8 * 6 * 3).reshape(2, 8, 6, 3).astype("float32")  # all distinct
    values = rng.normal(size=(2, 4, 3, 3)).astype("float32")
    _, indices = MaxPoolingWithArgmax2D()(x)
    _, mask = MaxPoolingWithMask2D()(x)
    np.testing.assert_array_equal(
        np.asarray(MaskUnpooling2D()([values, mask])),
        np.asarray(MaxUnpooling2D()([values, indices])),
    )


def test_mask_segnet_has_the_same_weights_and_runs_in_int8_on_xnnpack(tmp_path):
    indices = keras_segen.segnet((32, 32, 3), num_classes=3, filters=4)
    model = keras_segen.segnet((32, 32, 3), num_classes=3, filters=4, unpooling="mask")
    assert model.count_params() == indices.count_params()
    assert isinstance(model.get_layer("decoder3_unpool"), MaskUnpooling2D)
    assert model.get_layer("encoder1_pool").sharpness == 1000
    images = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    path = keras_segen.export.to_tflite(model, tmp_path / "segnet.tflite", "int8", images)
    xnnpack = keras_segen.export.inspect(path)["xnnpack"]
    assert (xnnpack["partitions"], xnnpack["undelegated_ops"]) == (1, {})


def test_mask_unpooling_rejects_odd_sizes_and_unknown_modes():
    odd = r"encoder3_pool needs an even height and width; got \(9, 8, 16\)"  # 36 -> 18 -> 9
    with pytest.raises(ValueError, match=odd):
        keras_segen.segnet((36, 32, 3), num_classes=3, filters=4, unpooling="mask")
    with pytest.raises(ValueError, match="unpooling must be 'indices' or 'mask'; got 'tile'"):
        keras_segen.segnet((32, 32, 3), num_classes=3, filters=4, unpooling="tile")
    with pytest.raises(ValueError, match="mask of twice the values' height and width"):
        MaskUnpooling2D()([keras.Input((4, 4, 1)), keras.Input((4, 4, 1))])
