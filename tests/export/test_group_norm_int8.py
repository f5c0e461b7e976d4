"""int8 export of GroupNorm models: the convolution feeding a GroupNorm is rescaled per group
before calibration (``keras_segen.quantization.group_norm_equalised``), so that one int8
scale covers groups whose magnitudes differ by a thousand times; the float model is
untouched and computes the same."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.export import convert
from keras_segen.quantization import group_norm_equalised

IMAGES = np.random.default_rng(0).random((16, 16, 16, 3), "float32")


def conv_group_norm_model(loud=1000.0, bias=False):
    """Conv (8 channels) -> GroupNorm (4 groups) -> ReLU -> 1x1 conv to 3 classes; the conv's
    kernel times 10, its first group's ``loud`` times more."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(8, 3, padding="same", use_bias=bias, name="conv")
    x = keras.layers.GroupNormalization(4, epsilon=1e-5, name="gn")(conv(inputs))
    x = keras.layers.ReLU()(x)
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1, name="head")(x))
    loudness = np.array([10.0 * loud] * 2 + [10.0] * 6, "float32")
    conv.set_weights([w * loudness for w in conv.get_weights()])
    return model


def group_deviations(model):
    output = keras.Model(model.input, model.get_layer("conv").output).predict(IMAGES, verbose=0)
    return output.reshape(-1, 4, 2).std(axis=(0, 2))


@pytest.mark.parametrize("bias", [False, True])
def test_groups_above_the_bound_are_scaled_to_it_and_the_outputs_stay(bias):
    model = conv_group_norm_model(bias=bias)
    before = group_deviations(model)
    copy = group_norm_equalised(model, IMAGES)
    after = group_deviations(copy)
    bound = 100 * 1e-5**0.5  # 0.316
    assert before[0] > 1000 and (before[1:] > 1).all()  # the loud group and the rest
    np.testing.assert_allclose(after, bound, rtol=1e-3)
    np.testing.assert_allclose(copy.predict(IMAGES, verbose=0), model.predict(IMAGES, verbose=0),
                               rtol=1e-3, atol=1e-3)  # fmt: skip
    np.testing.assert_allclose(group_deviations(model), before)  # the model is not changed
    assert copy.get_layer("head") is model.get_layer("head")  # other layers are shared


def test_groups_below_the_bound_and_models_without_the_pair_are_left_alone():
    quiet = conv_group_norm_model(loud=1.0)
    quiet.get_layer("conv").set_weights([w * 1e-2 for w in quiet.get_layer("conv").get_weights()])
    assert (group_deviations(quiet) < 100 * 1e-5**0.5).all()
    assert group_norm_equalised(quiet, IMAGES) is quiet
    plain = keras_segen.unet((16, 16, 3), num_classes=2, filters=4, depth=2)
    assert group_norm_equalised(plain, IMAGES) is plain


def test_a_conv_with_another_consumer_is_not_rescaled():
    inputs = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(8, 3, padding="same", name="conv")
    features = conv(inputs)
    normalised = keras.layers.GroupNormalization(4, epsilon=1e-5)(features)
    model = keras.Model(inputs, keras.layers.Add()([features, normalised]))
    conv.set_weights([w * 1000 for w in conv.get_weights()])
    assert (group_deviations(model) > 100 * 1e-5**0.5).all()  # would be rescaled if GN's alone
    assert group_norm_equalised(model, IMAGES) is model


def int8_error(model, tmp_path):
    path = keras_segen.export.to_tflite(model, tmp_path / "model.tflite", "int8", IMAGES)
    int8 = keras_segen.export.ArtifactRunner(path)(IMAGES[:4])
    float_ = model.predict(IMAGES[:4], verbose=0)
    return np.abs(int8 - float_).mean() / np.ptp(float_)


def test_int8_export_resolves_every_group(tmp_path, monkeypatch):
    model = conv_group_norm_model()
    weights = [w.copy() for w in model.get_weights()]
    assert int8_error(model, tmp_path) < 0.02
    for kept, now in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(kept, now)
    # Without the rescaling, the six quiet groups fall below one int8 step of the tensor.
    monkeypatch.setattr(convert, "group_norm_equalised", lambda model, inputs: model)
    assert int8_error(model, tmp_path) > 0.05
