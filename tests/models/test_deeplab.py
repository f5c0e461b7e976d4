"""DeepLabV3+: ASPP rates, output stride, decoder and backbones (Chen et al. 2018)."""

import keras
import numpy as np
import pytest

import keras_segen

SMALL = dict(filters=4, aspp_filters=8, low_level_filters=4)


@pytest.mark.parametrize("output_stride, rates", [(16, (6, 12, 18)), (8, (12, 24, 36))])
def test_aspp_rates_and_output_stride(output_stride, rates):
    model = keras_segen.deeplabv3_plus(
        (64, 64, 3), num_classes=3, output_stride=output_stride, **SMALL
    )
    for rate in rates:
        assert model.get_layer(f"aspp_rate{rate}_depthwise").dilation_rate == (rate, rate)
    assert model.get_layer("aspp_1x1_conv").input.shape[1] == 64 // output_stride
    assert isinstance(model.get_layer("aspp_image_pool"), keras.layers.GlobalAveragePooling2D)
    assert model.get_layer("decoder_low_level_conv").output.shape[1:] == (16, 16, 4)
    assert model.get_layer("decoder_concat").output.shape[1:] == (16, 16, 12)
    assert tuple(model.output.shape) == (None, 64, 64, 3)


@pytest.mark.parametrize(
    "output_stride, strided, dilated",
    [
        (
            16,
            {"block_6_depthwise": (2, 2)},
            {"block_13_depthwise": 1, "block_14_depthwise": 2, "block_16_depthwise": 2},
        ),
        (
            8,
            {},
            {
                "block_6_depthwise": 1,
                "block_7_depthwise": 2,
                "block_13_depthwise": 2,
                "block_16_depthwise": 4,
            },
        ),
    ],
)
def test_mobilenetv2_atrous_backbone(output_stride, strided, dilated):
    model = keras_segen.deeplabv3_plus(
        (64, 64, 3),
        num_classes=2,
        backbone="mobilenetv2",
        alpha=0.35,
        output_stride=output_stride,
        aspp_filters=8,
    )
    encoder = model.get_layer("encoder")
    low_level, features = encoder.output["P2"], encoder.output["P5"]
    assert low_level.shape[1] == 64 // 4 and features.shape[1] == 64 // output_stride
    for name, strides in strided.items():
        assert encoder.get_layer(name).strides == strides
    for name, rate in dilated.items():
        assert encoder.get_layer(name).dilation_rate == (rate, rate)
        if name in ("block_6_depthwise", "block_13_depthwise"):
            assert encoder.get_layer(name).strides == (1, 1)
    assert model.predict(np.random.rand(1, 64, 64, 3), verbose=0).shape == (1, 64, 64, 2)


def test_resnet50_atrous_backbone():
    model = keras_segen.deeplabv3_plus(
        (32, 32, 3), num_classes=2, backbone="resnet50", aspp_filters=8
    )
    encoder = model.get_layer("encoder")
    assert encoder.get_layer("conv5_block1_1_conv").strides == (1, 1)
    assert encoder.get_layer("conv5_block1_0_conv").strides == (1, 1)
    assert encoder.get_layer("conv5_block3_2_conv").dilation_rate == (2, 2)
    assert encoder.get_layer("conv4_block1_1_conv").strides == (2, 2)
    assert [encoder.output[level].shape[1] for level in ("P2", "P5")] == [8, 2]
    # The authors' tap: the second unit's last convolution, before the residual addition.
    image = np.random.default_rng(0).random((1, 32, 32, 3)).astype("float32")
    tap = keras.Model(encoder.input, encoder.get_layer("conv2_block2_3_bn").output)
    np.testing.assert_array_equal(np.asarray(tap(image)), np.asarray(encoder(image)["P2"]))
    assert encoder.get_layer("preprocessing").mode == "caffe"


def test_backbone_weights_from_a_local_file(tmp_path):
    path = tmp_path / "mobilenetv2_notop.weights.h5"
    reference = keras.applications.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights=None, alpha=0.35
    )
    reference.save_weights(path)
    model = keras_segen.deeplabv3_plus(
        (64, 64, 3),
        num_classes=2,
        backbone="mobilenetv2",
        alpha=0.35,
        weights=str(path),
        aspp_filters=8,
    )
    encoder = model.get_layer("encoder")
    for name in ("Conv1", "block_14_depthwise"):
        for got, want in zip(
            encoder.get_layer(name).get_weights(), reference.get_layer(name).get_weights()
        ):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(backbone="resnet34"), "deeplabv3_plus: backbone must be one of"),
        (dict(output_stride=32), r"output_stride must be one of \(8, 16\)"),
        (dict(weights="imagenet"), "the light backbone has no pretrained weights"),
        (dict(input_shape=(64, 68, 3), output_stride=8), "width 68 is not a multiple .* stride 8"),
        (dict(aspp_filters=0), "aspp_filters must be an integer >= 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.deeplabv3_plus(**{**SMALL, **kwargs})


def test_atrous_application_backbone_round_trip(tmp_path):
    model = keras_segen.deeplabv3_plus(
        (64, 64, 3),
        num_classes=2,
        backbone="mobilenetv2",
        alpha=0.35,
        output_stride=8,
        aspp_filters=8,
    )
    model.save(tmp_path / "deeplab.keras")
    restored = keras.models.load_model(tmp_path / "deeplab.keras")
    image = np.random.default_rng(0).random((1, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(image)), np.asarray(restored(image)))
    encoder = restored.get_layer("encoder")
    assert encoder.get_layer("block_16_depthwise").dilation_rate == (4, 4)
