"""The encoder seam: taps, preprocessing and weights of every Keras Applications family,
output stride by dilation, 1/N channels, freezing, and U-Net on a backbone."""

import socket

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.models.encoders.applications import application_constructors, application_family

# One network per keras.applications module (the smallest), each at a size it accepts.
FAMILIES = {
    "convnext": "convnexttiny", "densenet": "densenet121", "efficientnet": "efficientnetb0",
    "efficientnet_v2": "efficientnetv2b0", "inception_resnet_v2": "inceptionresnetv2",
    "inception_v3": "inceptionv3", "mobilenet": "mobilenet", "mobilenet_v2": "mobilenetv2",
    "mobilenet_v3": "mobilenetv3small", "nasnet": "nasnetmobile", "resnet": "resnet50",
    "resnet_v2": "resnet50v2", "vgg16": "vgg16", "vgg19": "vgg19", "xception": "xception",
}  # fmt: skip
# Networks whose "valid"-padded stems need at least 71-75 pixels.
SIZES = {"inceptionresnetv2": 96, "inceptionv3": 96, "xception": 96}


def test_every_applications_family_is_covered():
    families = {application_family(c) for c in application_constructors().values()}
    assert families == set(FAMILIES) | {"resnet"}  # ResNet50 lives in resnet as well


def _image(size, channels=3, seed=0):
    return np.random.default_rng(seed).random((1, size, size, channels)).astype("float32")


@pytest.mark.parametrize("family, name", sorted(FAMILIES.items()))
def test_weights_file_preprocessing_and_p5_match_the_application(family, name, tmp_path):
    """A random-weights application saved to a file and loaded with ``weights=path``: on an
    image in [0, 1] the encoder's P5 is the application's output on its own
    ``preprocess_input(255 * image)`` (taps, preprocessing and weights in one check)."""
    size = SIZES.get(name, 64)
    keras.utils.set_random_seed(1)
    application = application_constructors()[name](
        include_top=False, weights=None, input_shape=(size, size, 3)
    )
    path = tmp_path / f"{name}.weights.h5"
    application.save_weights(path)
    model = keras_segen.encoder(name, (size, size, 3), weights=str(path))
    image = _image(size)
    preprocess = getattr(keras.applications, family).preprocess_input
    expected = application(preprocess(255.0 * image))
    np.testing.assert_allclose(
        np.asarray(model(image)["P5"]), np.asarray(expected), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2", "efficientnetb0", "densenet121",
                                  "vgg16", "unet", "light"])  # fmt: skip
def test_every_tap_is_at_its_stride(name):
    model = keras_segen.encoder(name, (64, 64, 3))
    shapes = {level: tuple(x.shape[1:3]) for level, x in model.output.items()}
    assert shapes == {f"P{n}": (64 // 2**n, 64 // 2**n) for n in range(1, 6)}


def test_resnet50_taps_are_the_stage_outputs():
    """SMP's resnet50 features (layer1..layer4 and the stem's ReLU) are these layers."""
    model = keras_segen.encoder("resnet50", (64, 64, 3))
    image = _image(64)
    for level, layer in {"P1": "conv1_relu", "P2": "conv2_block3_out", "P3": "conv3_block4_out",
                         "P4": "conv4_block6_out"}.items():  # fmt: skip
        tap = keras.Model(model.input, model.get_layer(layer).output)
        np.testing.assert_array_equal(np.asarray(tap(image)), np.asarray(model(image)[level]))
    assert [model.output[f"P{n}"].shape[-1] for n in range(1, 6)] == [64, 256, 512, 1024, 2048]


@pytest.mark.parametrize("output_stride", [16, 8])
def test_dilation_keeps_the_weights_and_gives_the_stride(output_stride):
    keras.utils.set_random_seed(2)
    plain = keras_segen.encoder("resnet50", (64, 64, 3))
    dilated = keras_segen.encoder("resnet50", (64, 64, 3), output_stride=output_stride)
    dilated.set_weights(plain.get_weights())  # same variables in the same order
    assert dilated.output["P5"].shape[1] == 64 // output_stride
    assert dilated.output["P3"].shape[1] == 64 // 8
    conv = dilated.get_layer("conv5_block3_2_conv")
    assert conv.dilation_rate == (32 // output_stride,) * 2 and conv.strides == (1, 1)
    image = _image(64)
    # Up to the last stride it keeps, the dilated network computes the same features.
    np.testing.assert_allclose(
        np.asarray(dilated(image)["P3"]), np.asarray(plain(image)["P3"]), atol=1e-5
    )


def test_output_stride_8_that_a_network_cannot_reach_is_a_clear_error():
    with pytest.raises(ValueError, match="'nasnetmobile' cannot be dilated to output_stride 8"):
        keras_segen.encoder("nasnetmobile", (64, 64, 3), output_stride=8)


def test_pretrained_weights_adapt_to_one_and_four_channels(tmp_path):
    keras.utils.set_random_seed(3)
    application = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(64, 64, 3), alpha=0.35
    )
    path = tmp_path / "mobilenetv2.weights.h5"
    application.save_weights(path)
    rgb = keras_segen.encoder("mobilenetv2", (64, 64, 3), weights=str(path), alpha=0.35)
    grey = keras_segen.encoder("mobilenetv2", (64, 64, 1), weights=str(path), alpha=0.35)
    kernel = application.get_layer("Conv1").get_weights()[0]
    np.testing.assert_allclose(
        grey.get_layer("Conv1").get_weights()[0], kernel.sum(-2, keepdims=True)
    )
    # "tf" preprocessing is the same for every channel: a grey image through the summed
    # kernel is the RGB image (grey, grey, grey) through the original one.
    image = _image(64, 1)
    expected = rgb(np.repeat(image, 3, -1))["P5"]
    np.testing.assert_allclose(np.asarray(grey(image)["P5"]), np.asarray(expected), atol=1e-4)
    four = keras_segen.encoder("mobilenetv2", (64, 64, 4), weights=str(path), alpha=0.35)
    np.testing.assert_allclose(four.get_layer("Conv1").get_weights()[0],
                               kernel[:, :, [0, 1, 2, 0]] * 0.75)  # fmt: skip


def test_imagenet_download_failure_names_the_file_and_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(ValueError) as error:
        keras_segen.encoder("mobilenetv2", (64, 64, 3), weights="imagenet")
    message = str(error.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in message
    assert str(tmp_path / "models") in message


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(backbone="resnet34"), "backbone must be one of"),
        (dict(backbone="resnet50", weights="/no/such.h5"), "weights file '/no/such.h5' does not"),
        (dict(backbone="unet", weights="imagenet"), "'unet' has no pretrained weights"),
        (dict(backbone="resnet50", levels=("P6",)), "has no level 'P6'"),
        (dict(backbone="convnexttiny", levels=("P1",)), "has no level 'P1'"),
        (dict(backbone="resnet50", taps={"P2": "nope"}), "has no layer 'nope'"),
        (dict(backbone="resnet50", input_shape=(48, 48, 3)), "height 48 is not a multiple"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.encoder(**{"input_shape": (64, 64, 3), **kwargs})


def test_unet_on_a_backbone_has_smps_decoder_and_freezes_it(tmp_path):
    model = keras_segen.unet((64, 64, 3), 5, backbone="resnet50", freeze_backbone=True)
    encoder = model.get_layer("encoder")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # segmentation_models.pytorch 0.6.0 Unet(resnet50, classes=5): decoder 9,012,928 + head
    # 725 (benchmarks/results/smp_reference.md); the frozen encoder trains nothing.
    assert not encoder.trainable and trainable == 9_013_653
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(True))
    before = [w.copy() for w in encoder.get_weights()]
    decoder_before = model.get_layer("decoder1_conv1_conv").get_weights()[0].copy()
    images, masks = _image(64)[[0, 0]], np.zeros((2, 64, 64), "int32")
    model.fit(images, masks, epochs=1, verbose=0)
    for got, want in zip(encoder.get_weights(), before):  # BatchNorm statistics included
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.get_layer("decoder1_conv1_conv").get_weights()[0],
                              decoder_before)  # fmt: skip
    keras_segen.freeze_encoder(model, False)
    assert encoder.trainable


def test_unet_on_a_vgg_backbone_has_smps_centre_block():
    model = keras_segen.unet((64, 64, 3), 5, backbone="vgg16")
    encoder = model.get_layer("encoder")
    decoder = model.count_params() - encoder.count_params()
    batchnorm_statistics = 2 * sum(
        layer.get_weights()[0].size for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )  # fmt: skip
    assert decoder - batchnorm_statistics == 9_033_408 + 725  # SMP: vgg16 with its centre


def test_segnet_starts_from_vgg16s_convolutions(tmp_path):
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path / "vgg16.weights.h5"
    vgg.save_weights(path)
    model = keras_segen.segnet((32, 32, 3), 3, use_bias=True, weights=str(path))
    for block, index in ((1, 1), (3, 2), (5, 3)):
        for got, want in zip(model.get_layer(f"encoder{block}_conv{index}_conv").get_weights(),
                             vgg.get_layer(f"block{block}_conv{index}").get_weights()):  # fmt: skip
            np.testing.assert_array_equal(got, want)
    assert model.get_layer("preprocessing").mode == "caffe"
    with pytest.raises(ValueError, match="pretrained weights need filters=64"):
        keras_segen.segnet((32, 32, 3), 3, filters=8, weights=str(path))
    with pytest.raises(ValueError, match="backbone must be one of \\('vgg16',\\)"):
        keras_segen.segnet((32, 32, 3), 3, backbone="resnet50")


def test_reseg_on_a_backbone_stem_reads_its_stride_4_features():
    model = keras_segen.reseg((64, 64, 3), 3, backbone="light", backbone_kwargs={"filters": 4},
                              renet_units=(4,), patch_sizes=(2,), upsampling_filters=4)  # fmt: skip
    encoder = model.get_layer("encoder")
    assert list(encoder.output) == ["P2"] and encoder.output["P2"].shape[1] == 16
    assert not encoder.trainable  # freeze_stem, as the paper keeps its VGG16 stem fixed
    assert model.output_shape == (None, 64, 64, 3)


def _hub_resnet():
    keras_hub = pytest.importorskip("keras_hub")  # the [hub] extra, in the [test] extra
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=[64, 8, 8, 8],
        stackwise_num_blocks=[1, 1, 1, 1], stackwise_num_strides=[1, 2, 2, 2],
        block_type="basic_block", use_pre_activation=False, image_shape=(None, None, 3),
    )  # fmt: skip


def test_keras_hub_backbone_and_local_preset(tmp_path):
    backbone = _hub_resnet()
    image = _image(64)
    expected = keras.Model(backbone.inputs, backbone.pyramid_outputs)(image)
    model = keras_segen.encoder(backbone, (64, 64, 3))
    got = model(image)
    assert sorted(got) == ["P2", "P3", "P4", "P5"]  # keras-hub's ResNet has no P1
    for level in got:
        np.testing.assert_allclose(np.asarray(got[level]), np.asarray(expected[level]), atol=1e-5)
    assert list(keras_segen.encoder(backbone, (64, 64, 3), levels=("P3",)).output) == ["P3"]
    with pytest.raises(ValueError, match="has no level 'P1'"):
        keras_segen.encoder(backbone, (64, 64, 3), levels=("P1",))
    dilated = keras_segen.encoder(backbone, (64, 64, 3), output_stride=8)
    assert dilated.output["P5"].shape[1] == 8
    backbone.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_segen.encoder(f"keras_hub:{tmp_path / 'preset'}", (64, 64, 3))
    # No image converter in the preset: the [0, 1] image is scaled to [0, 255].
    np.testing.assert_allclose(np.asarray(loaded(image / 255.0)["P5"]),
                               np.asarray(expected["P5"]), atol=1e-4)  # fmt: skip
    unet = keras_segen.unet((64, 64, 3), 2, backbone=backbone, decoder_filters=(8,) * 5)
    assert unet.output_shape == (None, 64, 64, 2)
    with pytest.raises(ValueError, match="Could not load the keras-hub preset"):
        keras_segen.encoder(f"keras_hub:{tmp_path / 'missing'}", (64, 64, 3))


def test_backbone_catalogue_lists_every_backbone_as_measured(capsys):
    from keras_segen import cli
    from keras_segen.models.backbone_catalogue import describe_backbone, read_catalogue

    catalogue = read_catalogue()
    assert sorted(catalogue) == sorted(keras_segen.list_backbones())
    for name in ("light", "mobilenetv2"):  # rewritten by `python -m ...backbone_catalogue`
        assert catalogue[name] == describe_backbone(name)
    assert catalogue["resnet50"]["widths"] == {"P1": 64, "P2": 256, "P3": 512, "P4": 1024,
                                               "P5": 2048}  # fmt: skip
    assert cli.main(["list", "--backbones"]) == 0
    assert "resnet50           resnet" in capsys.readouterr().out
