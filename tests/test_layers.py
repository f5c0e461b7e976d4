"""Custom layers: values by hand, unknown sizes under tf.function, serialisation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_segen import layers


def test_imagenet_preprocessing_by_hand():
    pixel = np.array([[[[1.0, 0.5, 0.0]]]], dtype="float32")
    caffe = np.asarray(layers.ImagenetPreprocessing("caffe")(pixel))[0, 0, 0]
    np.testing.assert_allclose(caffe, [0 - 103.939, 127.5 - 116.779, 255 - 123.68], rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(layers.ImagenetPreprocessing("tf")(pixel)), [[[[1, 0, -1]]]]
    )
    torch = np.asarray(layers.ImagenetPreprocessing("torch")(pixel))[0, 0, 0]
    np.testing.assert_allclose(
        torch, [(1 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, -0.406 / 0.225], rtol=1e-6
    )
    with pytest.raises(ValueError, match="mode must be one of"):
        layers.ImagenetPreprocessing("bgr")


def test_resizing_layers_trace_with_unknown_sizes():
    """bilinear UpSampling2D and keras.ops.image.resize fail here in Keras 3.14-3.15."""
    upscale, resize_like = layers.Upscale2D(4), layers.ResizeLike()

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 2))])
    def run(x):
        return upscale(x), resize_like([x, upscale(x)])

    x = tf.random.uniform((1, 3, 5, 2))
    up, like = run(x)
    assert up.shape == (1, 12, 20, 2) and like.shape == (1, 12, 20, 2)
    expected = tf.image.resize(x, (12, 20), method="bilinear")
    np.testing.assert_allclose(up.numpy(), expected.numpy(), atol=1e-6)


def test_upscale_of_a_constant_is_constant():
    y = np.asarray(layers.Upscale2D(2)(np.full((1, 3, 3, 1), 7.0, "float32")))
    np.testing.assert_allclose(y, 7.0)
    assert layers.Upscale2D(3).compute_output_shape((None, 4, None, 2)) == (None, 12, None, 2)


@pytest.mark.parametrize(
    "layer",
    [
        layers.ResizeLike("nearest"),
        layers.Upscale2D(4, "nearest"),
        layers.CenterCropLike(),
        layers.PatchesToChannels(4),
        layers.MaxPoolingWithArgmax2D(),
        layers.MaxUnpooling2D(),
        layers.ImagenetPreprocessing("torch"),
        layers.ReNetSweep(5, cell="lstm", direction="vertical"),
    ],
)
def test_layer_config_round_trip(layer):
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.Upscale2D(0), "factor must be a positive integer"),
        (lambda: layers.ResizeLike("cubic"), "interpolation must be one of"),
        (lambda: layers.ReNetSweep(0), "units must be a positive integer"),
        (lambda: layers.ReNetSweep(4, direction="diagonal"), "direction must be one of"),
        (lambda: layers.PatchesToChannels(2)(keras.Input((5, 4, 3))), "divisible by 2"),
        (lambda: layers.MaxUnpooling2D((3, 0)), "output_size must be"),
        (
            lambda: layers.CenterCropLike()([keras.Input((4, 4, 1)), keras.Input((6, 6, 1))]),
            "cannot crop",
        ),
    ],
)
def test_layer_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_custom_layers_convert_to_builtin_tflite_ops():
    """The docstrings promise the built-in TFLite op set; the export issue builds on it."""
    from ai_edge_litert.interpreter import Interpreter

    inputs = keras.Input((8, 8, 3), batch_size=1)
    pooled, indices = layers.MaxPoolingWithArgmax2D()(inputs)
    x = layers.MaxUnpooling2D()([pooled, indices])
    x = layers.PatchesToChannels(2)(x)
    x = layers.ReNetSweep(4, direction="vertical")(layers.ReNetSweep(4)(x))
    x = layers.Upscale2D(2)(x)
    x = layers.ResizeLike()([x, layers.CenterCropLike()([inputs, x])])
    model = keras.Model(inputs, layers.ImagenetPreprocessing("caffe")(x[..., :3]))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    image = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, np.asarray(model(image)), atol=1e-4)
