"""Quantization-aware fine-tuning: fake-quant layers (values worked out by hand), where the
view rounds, that it shares and trains the model's weights, saving, and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen.layers import FakeQuant, FakeQuantKernel, fake_quantized_kernel


def test_kernel_rounding_uses_a_scale_per_output_channel():
    # Dense kernel (in, out): column 0 reaches 1.27 -> step 0.01; column 1 reaches 127 -> step 1.
    kernel = np.array([[1.27, 3.4], [0.123, -50.6], [-0.456, 127.0]], "float32")
    rounded = keras.ops.convert_to_numpy(fake_quantized_kernel(kernel, (0,)))
    np.testing.assert_allclose(rounded, [[1.27, 3.0], [0.12, -51.0], [-0.46, 127.0]], atol=1e-6)


@pytest.mark.parametrize(
    "layer, channel_axis",
    [
        (keras.layers.Conv2D(2, 1, use_bias=False), 3),
        (keras.layers.DepthwiseConv2D(1, depth_multiplier=1, use_bias=False), 2),
        (keras.layers.Conv2DTranspose(2, 1, use_bias=False), 2),
    ],
)
def test_wrapped_layer_runs_on_the_rounded_kernel(layer, channel_axis):
    wrapped = FakeQuantKernel(layer)
    wrapped(np.zeros((1, 1, 1, 2), "float32"))
    kernel = np.zeros(layer.kernel.shape, "float32")
    # Output channel 0: largest weight 1.27 (step 0.01); channel 1: 127 (step 1).
    index = [0] * kernel.ndim
    for channel, values in enumerate([(1.27, 0.123), (127.0, 3.4)]):
        index[channel_axis] = channel
        kernel[tuple(index)] = values[0]
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            continue  # one input channel per output channel
        index[5 - channel_axis] = 1  # the other input channel
        kernel[tuple(index)] = values[1]
        index[5 - channel_axis] = 0
    layer.kernel.assign(kernel)
    outputs = keras.ops.convert_to_numpy(wrapped(np.ones((1, 1, 1, 2), "float32")))
    expected = [1.27, 127.0] if isinstance(layer, keras.layers.DepthwiseConv2D) else [1.39, 130.0]
    np.testing.assert_allclose(outputs.reshape(-1), expected, rtol=1e-6)


def test_gradients_pass_straight_through_the_rounding():
    kernel = tf.Variable([[0.3, -0.7], [1.0, 0.05]])
    weights = tf.constant([[2.0, 3.0], [5.0, 7.0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(fake_quantized_kernel(kernel, (0,)) * weights)
    np.testing.assert_allclose(tape.gradient(loss, kernel), weights)


def test_fake_quant_tracks_the_range_and_rounds_over_it():
    layer = FakeQuant(momentum=0.5)
    x = np.array([[1.0, 1.504, 2.55]], "float32")
    # Before any training batch: identity.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x)
    # First batch sets the range; it is widened to contain zero: [0, 2.55], step 0.01.
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(trained, [[1.0, 1.5, 2.55]], atol=1e-6)
    assert float(layer.minimum) == pytest.approx(1.0)
    assert float(layer.maximum) == pytest.approx(2.55)
    # Second batch: range (1.0 + -1.0) / 2 = 0 .. (2.55 + 0.51) / 2 = 1.53, step 0.006.
    layer(np.array([[-1.0, 0.51]], "float32"), training=True)
    assert float(layer.minimum) == pytest.approx(0.0)
    assert float(layer.maximum) == pytest.approx(1.53)
    # Inference uses the stored range: 1.0 -> 167 steps of 0.006; beyond it: clipped.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(np.array([[1.0, 9.0, -3.0]], "float32"))),
        [[1.002, 1.53, 0.0]],
        atol=1e-5,
    )


def small_model():
    image = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv1")(image)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    y = keras.layers.Conv2D(4, 1, name="conv2")(x)
    x = keras.layers.Add(name="add")([x, y])
    return keras.Model(image, keras.layers.Conv2D(2, 1, name="logits")(x), name="small")


def test_the_view_rounds_every_tensor_tflite_keeps_in_int8():
    view = keras_segen.quantization_aware(small_model())
    names = [layer.name for layer in view.layers]
    # conv1 -> bn1 -> relu1 is one fused TFLite op: only its end is rounded.
    assert [n for n in names if n.endswith("_fake_quant")] == [
        "relu1_fake_quant",
        "conv2_fake_quant",
        "add_fake_quant",
        "logits_fake_quant",
    ]
    assert [n for n in names if n.endswith("_kernel")] == [
        "conv1_fake_quant_kernel",
        "conv2_fake_quant_kernel",
        "logits_fake_quant_kernel",
    ]


def test_nested_models_are_rewritten_too():
    inner_input = keras.Input((8, 8, 3))
    inner = keras.Model(
        inner_input, keras.layers.Conv2D(4, 1, name="inner_conv")(inner_input), name="encoder"
    )
    image = keras.Input((8, 8, 3))
    outer = keras.Model(image, keras.layers.Conv2D(2, 1, name="head")(inner(image)))
    view = keras_segen.quantization_aware(outer)
    nested = [layer for layer in view.layers if isinstance(layer, keras.Model)][0]
    assert [type(layer).__name__ for layer in nested.layers[1:]] == [
        "FakeQuantKernel",
        "FakeQuant",
    ]


def test_fine_tuning_the_view_fine_tunes_the_model_and_the_float_model_comes_back():
    keras.utils.set_random_seed(0)
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    view = keras_segen.quantization_aware(model)
    rng = np.random.default_rng(0)
    images = rng.random((16, 8, 8, 3), "float32")
    labels = rng.integers(0, 2, (16, 8, 8)).astype("int32")
    view.compile(keras.optimizers.Adam(1e-2), keras_segen.losses.CrossEntropy())
    view.fit(images, labels, batch_size=8, epochs=2, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    ranges = view.get_layer("logits_fake_quant")
    assert float(ranges.observed) == 1.0 and float(ranges.minimum) < 0 < float(ranges.maximum)
    plain = keras_segen.without_fake_quantization(view)
    assert not any(isinstance(layer, (FakeQuant, FakeQuantKernel)) for layer in plain.layers)
    np.testing.assert_array_equal(
        plain.predict(images, verbose=0), model.predict(images, verbose=0)
    )
    # The simulation differs from the float model by about int8 steps, not more.
    difference = np.abs(view.predict(images, verbose=0) - model.predict(images, verbose=0))
    step = (float(ranges.maximum) - float(ranges.minimum)) / 255
    assert 0 < difference.max() < 10 * step


def test_a_saved_view_loads_with_its_ranges(tmp_path):
    view = keras_segen.quantization_aware(small_model())
    images = np.random.default_rng(1).random((4, 8, 8, 3), "float32")
    view(images, training=True)  # observes ranges
    view.save(tmp_path / "view.keras")
    loaded = keras.saving.load_model(tmp_path / "view.keras")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), view.predict(images, verbose=0))
    np.testing.assert_allclose(
        keras_segen.without_fake_quantization(loaded).predict(images, verbose=0),
        keras_segen.without_fake_quantization(view).predict(images, verbose=0),
    )


def test_exporting_the_view_exports_the_float_model(tmp_path):
    model = small_model()
    view = keras_segen.quantization_aware(model)
    images = np.random.default_rng(2).random((8, 8, 8, 3), "float32")
    view(images, training=True)
    paths = [
        keras_segen.export.to_tflite(m, tmp_path / f"{i}.tflite", "int8", images)
        for i, m in enumerate((model, view))
    ]
    outputs = [keras_segen.export.ArtifactRunner(p)(images[:1]) for p in paths]
    np.testing.assert_array_equal(outputs[0], outputs[1])
    info = keras_segen.export.inspect(paths[1])
    assert not any("FAKE_QUANT" in op for op in info["ops"])


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="rewrites functional models; got Sequential|got Dense"):
        keras_segen.quantization_aware(keras.layers.Dense(2))
    view = keras_segen.quantization_aware(small_model())
    with pytest.raises(ValueError, match="already quantization-aware"):
        keras_segen.quantization_aware(view)
    with pytest.raises(ValueError, match="wraps Conv2D, DepthwiseConv2D.*got BatchNormalization"):
        FakeQuantKernel(keras.layers.BatchNormalization())
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\); got 1"):
        FakeQuant(momentum=1)
