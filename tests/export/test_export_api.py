"""The export API: fixed signatures, int8 I/O, Flex detection, errors, inspect, verify."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_segen
from keras_segen import export
from tests.helpers import tiny_batch


def _unet():
    return keras_segen.unet((None, None, 3), 3, filters=4, depth=2)


def test_int8_io_exposes_quantisation_and_runs_on_real_samples(tmp_path):
    model = _unet()
    images, masks = tiny_batch(batch=8)
    calibration = tf.data.Dataset.from_tensor_slices((images, masks)).batch(4)
    path = export.to_tflite(
        model, tmp_path / "u.tflite", "int8", calibration, input_shape=(32, 32, 3), int8_io=True
    )
    details = export.inspect(path)
    (source,) = details["inputs"]
    assert source["name"] == "image" and source["shape"] == [1, 32, 32, 3]
    assert source["dtype"] == "int8"
    scale, zero_point = source["quantization"]
    # Calibrated on [0, 1] images: 256 int8 steps span [0, 1].
    assert scale == pytest.approx(1 / 255, rel=0.05) and zero_point == -128
    report = export.verify(model, path, images, labels=masks)
    assert report["runtime"].startswith("ai-edge-litert")
    assert {"miou_keras", "miou_artifact", "miou_change"} <= set(report)
    assert report["miou_change"] == pytest.approx(report["miou_artifact"] - report["miou_keras"])


def test_converting_again_exports_the_model_as_it_is_now(tmp_path):
    # to_tflite reuses its last SavedModel only for the same model with the same weights.
    model = keras_segen.unet((32, 32, 3), 3, filters=4, depth=2)
    images = tiny_batch(batch=2)[0]
    export.to_tflite(model, tmp_path / "before.tflite")
    head = [layer for layer in model.layers if hasattr(layer, "kernel")][-1]
    head.kernel.assign(head.kernel * -2.0)
    assert export.verify(model, tmp_path / "before.tflite", images)["max_abs_diff"] > 1e-3
    after = export.to_tflite(model, tmp_path / "after.tflite")
    assert export.verify(model, after, images)["max_abs_diff"] <= 1e-4
    other = keras_segen.unet((32, 32, 3), 3, filters=4, depth=2)  # same shapes, own weights
    path = export.to_tflite(other, tmp_path / "other.tflite")
    assert export.verify(other, path, images)["max_abs_diff"] <= 1e-4


def test_flex_ops_are_an_error_that_names_them(tmp_path):
    class Bessel(keras.layers.Layer):
        def call(self, x):
            return tf.math.bessel_i0e(x)

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, Bessel()(inputs), name="uses_bessel")
    with pytest.raises(ValueError, match="uses_bessel needs TensorFlow ops .*BesselI0e"):
        export.to_tflite(model, tmp_path / "b.tflite")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(quantization="int4"), "quantization must be one of"),
        (dict(quantization="int8"), "calibrates on real data"),
        (dict(int8_io=True), 'int8_io=True needs quantization="int8"'),
        (dict(input_shape=None), r"needs a fixed height and width: pass input_shape"),
        (dict(quantization="int8", representative_data=np.zeros((2, 16, 16, 3))),
         r"samples have shape \(16, 16, 3\); the export input 'image' is \(32, 32, 3\)"),
    ],
)  # fmt: skip
def test_argument_errors(kwargs, match, tmp_path):
    settings = {"input_shape": (32, 32, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        export.to_tflite(_unet(), tmp_path / "x.tflite", **settings)


def test_a_model_with_nested_outputs_is_refused_before_tracing(tmp_path):
    discriminator = keras_segen.get_model("spade_discriminator", "tiny")
    for write in (export.to_saved_model, export.to_tflite, export.to_onnx):
        with pytest.raises(ValueError, match="spade_discriminator returns nested lists of 10"):
            write(discriminator, tmp_path / "d")


def test_dropout_is_removed(tmp_path):
    generator = keras_segen.pix2pix_generator((16, 16, 3), filters=4)
    path = export.to_tflite(generator, tmp_path / "p.tflite")
    ops = export.inspect(path)["ops"]
    assert not any("RANDOM" in op for op in ops)
    sample = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    assert export.verify(generator, path, sample)["max_abs_diff"] <= 1e-4  # inference mode


@pytest.mark.xdist_group("conditional_generator")
def test_runner_accepts_named_inputs_in_any_order(exports):
    generator = exports.model("conditional_generator")  # 8-d latent, 3 classes
    path = exports.tflite("conditional_generator")
    runner = export.ArtifactRunner(path)
    assert sorted(runner.input_names) == ["label", "latent"]
    latent = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    labels = np.array([0, 2], "int32")
    got = runner({"label": labels, "latent": latent})
    np.testing.assert_allclose(got, generator([latent, labels]), atol=1e-5)
    with pytest.raises(ValueError, match=r"Inputs \['latent'\] missing"):
        runner.run_one({"label": labels[:1]})


def test_unknown_artifact_is_rejected(tmp_path):
    (tmp_path / "model.pt").write_text("")
    with pytest.raises(ValueError, match="not a SavedModel folder, a .tflite or an .onnx"):
        export.inspect(tmp_path / "model.pt")


@pytest.mark.xdist_group("segnet")
def test_delegation_report_names_the_ops_xnnpack_leaves(exports):
    """SegNet's unpooling (EQUAL, SELECT_V2, TILE) stays on TFLite kernels and cuts the
    graph into one XNNPACK partition per convolution run; ReSeg's RNN loops do too."""
    report = export.inspect(exports.tflite("segnet"))["xnnpack"]  # 5 poolings, 5 unpoolings
    assert {"EQUAL", "SELECT_V2", "TILE"} <= set(report["undelegated_ops"])
    assert report["delegated_ops"]["CONV_2D"] == 26  # every convolution is delegated
    assert report["partitions"] > 5 and 0 < report["delegated_share"] < 1
    report = export.inspect(exports.tflite("reseg"))["xnnpack"]  # float32
    assert report["undelegated_ops"].get("WHILE") == 4  # one loop per GRU: 2 sweeps x 2 ways


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrent_models_are_unrolled_for_int8_with_the_same_outputs(cell):
    model = keras_segen.reseg((None, None, 3), 3, stem_filters=(4,), renet_units=(4,),
                              patch_sizes=(2,), cell=cell, upsampling_filters=4)  # fmt: skip
    specs = export.input_specs(model, (16, 24, 3))
    copy = export.convert.unrolled(model, specs)
    sweeps = [layer for layer in copy.layers if isinstance(layer, keras_segen.layers.ReNetSweep)]
    assert len(sweeps) == 2 and all(s.unroll and s.forward_rnn.unroll for s in sweeps)
    assert copy.input_shape == (None, 16, 24, 3)  # the export's fixed size
    images = np.random.default_rng(0).random((2, 16, 24, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(copy(images)), np.asarray(model(images)), atol=1e-6)
    plain = _unet()
    assert export.convert.unrolled(plain, export.input_specs(plain, (16, 16, 3))) is plain


def test_a_recurrent_layer_that_cannot_be_unrolled_is_refused_for_int8(tmp_path):
    inputs = keras.Input((6, 3))
    nested = keras.Sequential([keras.Input((6, 3)), keras.layers.GRU(4, name="inner_gru")])
    model = keras.Model(inputs, nested(inputs), name="nested_rnn")
    with pytest.raises(
        ValueError, match="nested_rnn has recurrent layers inside nested .*inner_gru"
    ):
        export.to_tflite(model, tmp_path / "m.tflite", "int8",
                         representative_data=np.zeros((2, 6, 3), "float32"))  # fmt: skip


def test_int8_calibration_feeds_each_input_by_name(tmp_path):
    # Same shapes, ranges 100x apart; the converter's input order is not the Keras one, and
    # fed by position it calibrated each input on the other's data.
    image, label_map = (
        keras.Input((8, 8, 2), name="image"),
        keras.Input((8, 8, 2), name="label_map"),
    )
    mixed = keras.layers.Add()(
        [keras.layers.Conv2D(4, 1)(image), keras.layers.Conv2D(4, 1)(label_map)]
    )
    model = keras.Model([image, label_map], mixed)
    rng = np.random.default_rng(0)
    data = [rng.uniform(0, 1, (16, 8, 8, 2)), rng.uniform(0, 100, (16, 8, 8, 2))]
    data = [array.astype("float32") for array in data]
    path = export.to_tflite(model, tmp_path / "two.tflite", "int8", data, int8_io=True)
    scales = {info["name"]: info["quantization"][0] for info in export.inspect(path)["inputs"]}
    assert scales["image"] == pytest.approx(1 / 255, rel=0.05), scales
    assert scales["label_map"] == pytest.approx(100 / 255, rel=0.05), scales
