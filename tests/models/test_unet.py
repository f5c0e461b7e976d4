"""U-Net: the paper's network, its skips and its size rules."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.models.segmentation import unet_output_size


def _paper_parameter_count(num_classes, in_channels=1):
    """Parameters of Fig. 1 of Ronneberger et al., counted layer by layer (weights + biases)."""

    def conv(k, cin, cout):
        return k * k * cin * cout + cout

    widths = [64, 128, 256, 512]
    total, cin = 0, in_channels
    for width in widths:  # contracting path
        total += conv(3, cin, width) + conv(3, width, width)
        cin = width
    total += conv(3, 512, 1024) + conv(3, 1024, 1024)  # bottom
    cin = 1024
    for width in reversed(widths):  # expanding path: up-conv 2x2, then two 3x3 on the concat
        total += conv(2, cin, width) + conv(3, 2 * width, width) + conv(3, width, width)
        cin = width
    return total + conv(1, 64, num_classes)


def test_paper_network_maps_572_to_388():
    model = keras_segen.unet((572, 572, 1), num_classes=2, padding="valid", batch_norm=False)
    assert tuple(model.output.shape) == (None, 388, 388, 2)
    assert model.count_params() == _paper_parameter_count(2)


def test_paper_feature_map_sizes():
    model = keras_segen.unet((572, 572, 1), num_classes=2, padding="valid", batch_norm=False)
    size = {layer.name: layer.output.shape[1] for layer in model.layers}
    # Sizes printed in Fig. 1 of the paper.
    assert [size[f"encoder{i}_conv2_relu"] for i in range(1, 5)] == [568, 280, 136, 64]
    assert size["bottleneck_conv2_relu"] == 28
    assert [size[f"decoder{i}_conv2_relu"] for i in range(4, 0, -1)] == [52, 100, 196, 388]
    assert [size[f"decoder{i}_crop"] for i in range(4, 0, -1)] == [56, 104, 200, 392]


def test_each_decoder_concatenates_the_encoder_map_of_its_level():
    model = keras_segen.unet((64, 64, 3), num_classes=2, filters=4, depth=3)
    for level in (1, 2, 3):
        concat = model.get_layer(f"decoder{level}_concat")
        sources = [tensor._keras_history.operation.name for tensor in concat.input]
        assert sources == [f"encoder{level}_conv2_relu", f"decoder{level}_upconv"]


def test_skips_are_cropped_copies_in_valid_mode():
    model = keras_segen.unet((188, 188, 1), num_classes=2, filters=4, depth=2, padding="valid")
    crop = model.get_layer("decoder1_crop")
    assert crop.input[0]._keras_history.operation.name == "encoder1_conv2_relu"
    assert tuple(model.output.shape) == (
        None,
        unet_output_size(188, 2),
        unet_output_size(188, 2),
        2,
    )


def test_center_crop_keeps_the_centre():
    x = np.arange(36, dtype="float32").reshape(1, 6, 6, 1)
    reference = np.zeros((1, 2, 2, 1), dtype="float32")
    cropped = keras_segen.layers.CenterCropLike()([x, reference])
    np.testing.assert_array_equal(np.asarray(cropped)[0, :, :, 0], [[14, 15], [20, 21]])


@pytest.mark.parametrize(
    "size, depth, expected",
    [
        (572, 4, 388),  # the paper
        (188, 2, 148),  # 184 -> 92, 88 -> 44, 40 at the bottom, 80 - 4, 152 - 4
        (570, 4, None),  # 566 -> 283, 279 is odd before the second pooling
        (140, 4, None),  # 136, 64, 28, 10 -> 5, 1 at the bottom, then 2 - 4 < 0
    ],
)
def test_unet_output_size(size, depth, expected):
    assert unet_output_size(size, depth) == expected


def test_valid_padding_suggests_valid_sizes():
    with pytest.raises(ValueError, match=r"input height 570 .*nearest valid sizes: \[556, 572\]"):
        keras_segen.unet((570, 572, 1), padding="valid")


def test_same_padding_needs_a_multiple_of_2_to_the_depth():
    with pytest.raises(ValueError, match=r"unet: input_shape width 100 is not a multiple .* 16"):
        keras_segen.unet((96, 100, 3))
    assert keras_segen.unet((96, 112, 3), filters=4).output.shape[1:3] == (96, 112)


@pytest.mark.parametrize("upsampling", ["transpose", "bilinear"])
def test_upsampling_modes_and_dropout(upsampling):
    model = keras_segen.unet(
        (None, None, 3), num_classes=4, filters=4, depth=2, upsampling=upsampling, dropout=0.5
    )
    assert model.get_layer("bottleneck_dropout").rate == 0.5
    assert model.predict(np.zeros((1, 40, 24, 3)), verbose=0).shape == (1, 40, 24, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(padding="full"), "padding must be one of"),
        (dict(upsampling="nearest"), "upsampling must be one of"),
        (dict(depth=0), "depth must be an integer >= 1"),
        (dict(filters=0), "filters must be an integer >= 1"),
        (dict(dropout=1.0), r"dropout must be a number in \[0, 1\)"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.unet(**kwargs)


def test_batch_norm_switch():
    plain = keras_segen.unet(filters=4, depth=1, batch_norm=False)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)
    normalised = keras_segen.unet(filters=4, depth=1)
    assert isinstance(normalised.get_layer("encoder1_conv1_bn"), keras.layers.BatchNormalization)
