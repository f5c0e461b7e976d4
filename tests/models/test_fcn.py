"""FCN: score fusion, bilinear upsampling and backbones (Long et al. 2015)."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import BilinearUpsampling, bilinear_kernel

SMALL = dict(filters=4, fc_units=8)


def test_bilinear_kernel_by_hand():
    taps = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(bilinear_kernel(4), np.outer(taps, taps))
    np.testing.assert_allclose(bilinear_kernel(3), np.outer([0.5, 1, 0.5], [0.5, 1, 0.5]))


@pytest.mark.parametrize("factor", [2, 8, 32])
def test_bilinear_initialised_transpose_conv_interpolates(factor):
    layer = keras.layers.Conv2DTranspose(
        2,
        2 * factor,
        strides=factor,
        padding="same",
        use_bias=False,
        kernel_initializer=BilinearUpsampling(),
    )
    ramp = np.tile(np.arange(6, dtype="float32")[None, :], (6, 1))
    x = np.stack([ramp, np.ones_like(ramp)], axis=-1)[None]
    y = np.asarray(layer(x))[0]
    assert y.shape == (6 * factor, 6 * factor, 2)
    inner = slice(factor, 5 * factor)  # away from the zero padding at the border
    np.testing.assert_allclose(y[inner, inner, 1], 1.0, atol=1e-6)
    # Interpolating a ramp gives a ramp: equal steps of 1 / factor between neighbours.
    np.testing.assert_allclose(np.diff(y[inner, inner, 0], axis=1), 1.0 / factor, atol=1e-5)


def _sources(model, layer_name):
    inputs = model.get_layer(layer_name).input
    inputs = inputs if isinstance(inputs, list) else [inputs]
    return [tensor._keras_history.operation.name for tensor in inputs]


def test_fcn8s_fuses_pool4_and_pool3_scores():
    model = keras_segen.fcn((64, 64, 3), num_classes=5, **SMALL)
    assert _sources(model, "score_pool4") == ["block4_pool"]
    assert _sources(model, "score_pool3") == ["block3_pool"]
    assert _sources(model, "fuse_pool4") == ["upscore2", "score_pool4"]
    assert _sources(model, "fuse_pool3") == ["upscore_pool4", "score_pool3"]
    assert model.get_layer("fuse_pool3").output.shape[1] == 64 // 8
    assert model.get_layer("upscore8").strides == (8, 8)
    assert tuple(model.output.shape) == (None, 64, 64, 5)


@pytest.mark.parametrize(
    "variant, final, fused",
    [
        ("32s", "upscore32", []),
        ("16s", "upscore16", ["fuse_pool4"]),
        ("8s", "upscore8", ["fuse_pool4", "fuse_pool3"]),
    ],
)
def test_variants(variant, final, fused):
    model = keras_segen.fcn((64, 64, 3), num_classes=3, variant=variant, **SMALL)
    names = {layer.name for layer in model.layers}
    assert {n for n in names if n.startswith("fuse_")} == set(fused)
    assert model.name == f"fcn{variant}"
    assert not model.get_layer(final).trainable  # fixed bilinear, as in the paper
    assert tuple(model.output.shape) == (None, 64, 64, 3)


def test_fc6_fc7_are_convolutions_and_scores_start_at_zero():
    model = keras_segen.fcn((32, 32, 3), num_classes=3, **SMALL)
    assert model.get_layer("fc6").kernel_size == (7, 7)
    assert model.get_layer("fc7").kernel_size == (1, 1)
    assert model.get_layer("upscore2").trainable
    # Zero-initialised score layers make a fresh FCN predict all-zero logits.
    outputs = model.predict(np.random.rand(1, 32, 32, 3), verbose=0)
    np.testing.assert_array_equal(outputs, 0.0)


def test_pretrained_vgg16_weights_from_a_local_file(tmp_path):
    path = tmp_path / "vgg16_notop.weights.h5"
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    vgg.save_weights(path)
    with pytest.warns(UserWarning, match="fc_units=8 differs"):  # fc6/fc7 stay random
        model = keras_segen.fcn((32, 32, 3), num_classes=2, fc_units=8, weights=str(path))
    for name in ("block1_conv1", "block5_conv3"):
        np.testing.assert_array_equal(
            model.get_layer(name).get_weights()[0], vgg.get_layer(name).get_weights()[0]
        )
    assert model.get_layer("preprocessing").mode == "caffe"


def test_pretrained_weights_need_the_paper_width(tmp_path):
    path = tmp_path / "vgg16_notop.weights.h5"
    keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(
        path
    )
    with pytest.raises(ValueError, match="need the backbone.s own widths"):
        keras_segen.fcn((32, 32, 3), num_classes=2, filters=8, fc_units=8, weights=str(path))


def test_light_backbone():
    model = keras_segen.fcn((64, 64, 3), num_classes=4, backbone="mobilenetv2", alpha=0.35)
    assert model.get_layer("encoder").output["P3"].shape[1] == 64 // 8
    assert model.predict(np.random.rand(1, 64, 64, 3), verbose=0).shape == (1, 64, 64, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(variant="4s"), r"fcn: variant must be one of \('8s', '16s', '32s'\)"),
        (dict(backbone="resnet34"), "fcn: backbone must be one of"),
        (dict(weights="/no/such/file.h5"), "does not exist"),
        (dict(weights="imagenet", input_shape=(64, 64, 4)), "needs 3-channel input"),
        (
            dict(input_shape=(48, 64, 3)),
            "height 48 is not a multiple .* stride 32; use e.g. 32 or 64",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.fcn(**{**SMALL, **kwargs})
