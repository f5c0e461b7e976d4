"""FPN, PSPNet, LinkNet and U-Net++ over the encoder seam against segmentation_models.pytorch.

The reference numbers are SMP 0.6.0's decoder + head trainable parameters at 5 classes on
ResNet-50 (encoder channels 64, 256, 512, 1024, 2048), from
``benchmarks/results/smp_reference.md``; the formulas below are SMP's constructors
written out per layer (conv without bias + BatchNorm: ``k*k*i*o + 2*o``), checked against
those numbers and then applied to other channel sets.
"""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import DynamicAdaptiveAveragePooling2D
from tests.harness import run_builder_test

NEW_MODELS = ("fpn", "pspnet", "linknet", "unet_plus_plus")
RESNET50 = (64, 256, 512, 1024, 2048)  # c1 .. c5
SMP_RESNET50_K5 = {  # decoder + head, classes=5
    "unet_plus_plus": 25_478_293,
    "fpn": 2_608_517,
    "pspnet": 811_397,
    "linknet": 7_669_877,
}


def cb(c_in, c_out, k):
    """Conv2dReLU with BatchNorm: a k x k convolution without bias, BN gamma and beta."""
    return k * k * c_in * c_out + 2 * c_out


def fpn_count(c, classes, pyramid=256, segmentation=128, merge="add"):
    lateral = pyramid * sum(c[1:5]) + 4 * pyramid
    branches = 4 * (9 * pyramid * segmentation + 2 * segmentation)
    branches += 3 * (9 * segmentation * segmentation + 2 * segmentation)
    width = segmentation * (4 if merge == "cat" else 1)
    return lateral + branches + width * classes + classes


def pspnet_count(channels, classes, filters=512, bins=4):
    q = channels // bins
    branches = (channels * q + q) + (bins - 1) * cb(channels, q, 1)
    return branches + cb(channels + bins * q, filters, 1) + 9 * filters * classes + classes


def linknet_count(c, classes, prefinal=32):
    chain = [c[4], c[3], c[2], c[1], c[0] or c[1], prefinal]  # no P1: P2's width
    total = 0
    for a, o in zip(chain, chain[1:]):
        q = a // 4
        total += cb(a, q, 1) + (16 * q * q + q + 2 * q) + cb(q, o, 1)
    return total + prefinal * classes + classes


def unet_plus_plus_count(c, classes, decoder=(256, 128, 64, 32, 16)):
    """SMP's constructor: block x_d_l as (in, skip, out); a block with out 0 is empty."""
    in_ch = [c[4], *decoder[:-1]]
    skip = [c[3], c[2], c[1], c[0], 0]
    blocks = []
    for layer in range(4):
        for depth in range(layer + 1):
            if depth == 0:
                blocks.append((in_ch[layer], skip[layer] * (layer + 1), decoder[layer]))
            else:
                blocks.append((skip[layer - 1], skip[layer] * (layer + 1 - depth), skip[layer]))
    blocks.append((in_ch[-1], 0, decoder[-1]))
    total = sum(cb(i + s, o, 3) + cb(o, o, 3) for i, s, o in blocks if o)
    return total + 9 * decoder[-1] * classes + classes


def trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def decoder_and_head(model):
    return trainable(model) - trainable(model.get_layer("encoder"))


def channels(model):
    """``(c1, ..., c5)`` of the model's encoder (0 for a missing level)."""
    outputs = model.get_layer("encoder").output
    return tuple(outputs[f"P{n}"].shape[-1] if f"P{n}" in outputs else 0 for n in range(1, 6))


def check_norm_layers(model):
    """Decoder BatchNorm and GroupNorm have PyTorch's epsilon and momentum."""
    decoder = [layer for layer in model.layers if layer.name != "encoder"]
    for layer in decoder:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert (layer.momentum, layer.epsilon) == (0.9, 1e-5), layer.name
        if isinstance(layer, keras.layers.GroupNormalization):
            assert (layer.groups, layer.epsilon) == (32, 1e-5), layer.name


def test_the_smp_formulas_give_the_reference_numbers():
    c = RESNET50
    assert fpn_count(c, 5) == SMP_RESNET50_K5["fpn"]
    assert pspnet_count(c[2], 5) == SMP_RESNET50_K5["pspnet"]
    assert linknet_count(c, 5) == SMP_RESNET50_K5["linknet"]
    assert unet_plus_plus_count(c, 5) == SMP_RESNET50_K5["unet_plus_plus"]
    # efficientnet-b0 (32, 24, 40, 112, 320) and mobilenet_v2 rows of the reference
    assert fpn_count((32, 24, 40, 112, 320), 5) == 1_752_453
    assert pspnet_count(40, 5) == 66_699
    assert linknet_count((16, 24, 32, 96, 1280), 5) == 2_096_119
    assert unet_plus_plus_count((32, 24, 40, 112, 320), 5) == 2_562_613


@pytest.mark.parametrize("name", ["fpn", "linknet", "unet_plus_plus"])
def test_paper_preset_on_resnet50_has_smp_decoder_and_head(name):
    """One ResNet-50 build per model: the paper preset at 5 classes (SMP's layout)."""
    model = keras_segen.get_model(name, preset="paper", num_classes=5)
    height, width, _ = keras_segen.model_entry(name).presets["paper"].config["input_shape"]
    assert model.output_shape == (None, height, width, 5)
    uses_p1 = name != "fpn"  # FPN asks the encoder for P2..P5 only
    assert channels(model) == (RESNET50[0] if uses_p1 else 0, *RESNET50[1:])
    assert decoder_and_head(model) == SMP_RESNET50_K5[name]
    check_norm_layers(model)


def test_pspnet_default_on_resnet50_has_smp_decoder_and_head():
    model = keras_segen.pspnet((64, 64, 3), num_classes=5)
    encoder = model.get_layer("encoder")
    assert list(encoder.output) == ["P3"]  # nothing deeper is built
    assert not [layer for layer in encoder.layers if layer.name.startswith("conv4_")]
    assert model.get_layer("psp_concat").input[-1].shape[1:] == (8, 8, 512)
    assert decoder_and_head(model) == SMP_RESNET50_K5["pspnet"]
    branch1 = model.get_layer("psp_branch1_conv")
    assert branch1.use_bias and "psp_branch1_bn" not in [layer.name for layer in model.layers]
    assert not model.get_layer("psp_branch2_conv").use_bias
    check_norm_layers(model)


def test_pspnet_paper_preset_pools_the_dilated_stride_8_features():
    """Paper layout at a small input: dilated ResNet-50, PSP on the 2048-channel P5."""
    config = keras_segen.model_entry("pspnet").presets["paper"].config
    assert (config["output_stride"], config["encoder_depth"]) == (8, 5)
    assert config["input_shape"] == (480, 480, 3)  # 60x60 at stride 8: bins 1/2/3/6 divide
    model = keras_segen.get_model("pspnet", preset="paper", input_shape=(64, 64, 3))
    assert model.get_layer("psp_concat").input[-1].shape[1:] == (8, 8, 2048)
    assert decoder_and_head(model) == pspnet_count(2048, 21) == 6_296_064 + 4609 * 21
    assert model.output_shape == (None, 64, 64, 21)


def test_formulas_hold_on_other_encoder_channels():
    light = {"backbone": "light", "backbone_kwargs": {"filters": 4}}
    c = (4, 8, 16, 32, 64)
    model = keras_segen.fpn((32, 32, 3), 3, merge="cat", **light)
    assert channels(model) == (0, *c[1:])
    assert decoder_and_head(model) == fpn_count(c, 3, merge="cat")
    model = keras_segen.linknet((32, 32, 3), 3, **light)
    assert decoder_and_head(model) == linknet_count(c, 3)
    model = keras_segen.pspnet((32, 32, 3), 3, psp_filters=64, freeze_backbone=True, **light)
    assert trainable(model) == pspnet_count(16, 3, filters=64)  # the encoder is frozen
    model = keras_segen.unet_plus_plus((32, 32, 3), 3, **light)
    assert decoder_and_head(model) == unet_plus_plus_count(c, 3)
    # VGG16 (SMP's taps: P1 = block2_conv2): SMP's count minus its never-called center.
    model = keras_segen.unet_plus_plus((32, 32, 3), 3, backbone="vgg16",
                                       backbone_kwargs={"filters": 4})  # fmt: skip
    vgg = channels(model)
    assert vgg == (8, 16, 32, 32, 32)
    assert decoder_and_head(model) == unet_plus_plus_count(vgg, 3)
    assert unet_plus_plus_count((128, 256, 512, 512, 512), 5) == 24_633_237 - 2 * cb(512, 512, 3)


def test_encoders_without_p1_skip_that_level():
    """ConvNeXt starts at stride 4: LinkNet adds nothing at P1's level (keeping P2's width),
    U-Net++ has no nodes there (SMP's rules for a 0-channel level)."""
    for builder, count in ((keras_segen.linknet, linknet_count),
                           (keras_segen.unet_plus_plus, unet_plus_plus_count)):  # fmt: skip
        model = builder((64, 64, 3), 2, backbone="convnexttiny")
        assert channels(model) == (0, 96, 192, 384, 768)
        assert decoder_and_head(model) == count((0, 96, 192, 384, 768), 2)
        outputs = model.predict(np.zeros((1, 64, 64, 3), "float32"), verbose=0)
        assert outputs.shape == (1, 64, 64, 2)


@pytest.mark.parametrize("name", NEW_MODELS)
def test_tiny_preset_through_the_harness(name, tmp_path):
    run_builder_test(name, tmp_path)


def reference_adaptive_pool(x, bins):
    """PyTorch's AdaptiveAvgPool2d written out: window [floor(i*n/b), ceil((i+1)*n/b))."""
    out = np.zeros((x.shape[0], bins, bins, x.shape[3]), "float32")
    for i in range(bins):
        rows = slice(i * x.shape[1] // bins, -(-(i + 1) * x.shape[1] // bins))
        for j in range(bins):
            cols = slice(j * x.shape[2] // bins, -(-(j + 1) * x.shape[2] // bins))
            out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("size, bins", [(4, 6), (5, 2), (6, 3), (7, 6), (1, 2)])
def test_adaptive_pooling_is_pytorchs(size, bins):
    x = np.random.default_rng(0).normal(size=(2, size, size + 1, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(DynamicAdaptiveAveragePooling2D(bins)(x))
    np.testing.assert_allclose(got, reference_adaptive_pool(x, bins), atol=1e-6)


def test_pspnet_pooling_follows_the_input_size():
    """Fixed sizes that divide into the bins pool with AveragePooling2D, other fixed sizes
    with Keras' AdaptiveAveragePooling2D, unknown sizes with the dynamic layer; the three
    give the same outputs with the same weights."""
    light = {"backbone": "light", "backbone_kwargs": {"filters": 4}, "psp_filters": 8}
    fixed = keras_segen.pspnet((48, 48, 3), 3, **light)  # P3: 6x6
    odd = keras_segen.pspnet((40, 40, 3), 3, **light)  # P3: 5x5
    dynamic = keras_segen.pspnet((None, None, 3), 3, **light)
    kinds = {
        fixed: keras.layers.AveragePooling2D,
        odd: keras.layers.AdaptiveAveragePooling2D,
        dynamic: DynamicAdaptiveAveragePooling2D,
    }
    for model, kind in kinds.items():
        assert isinstance(model.get_layer("psp_pool3"), kind)
    for layer in fixed.layers:
        for model in (odd, dynamic):
            model.get_layer(layer.name).set_weights(layer.get_weights())
    for model, size in ((fixed, 48), (odd, 40)):
        images = np.random.default_rng(size).uniform(size=(2, size, size, 3)).astype("float32")
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model(images)),
            dynamic.predict(images, verbose=0),
            atol=1e-5,
        )


def test_bad_arguments_name_themselves():
    light = {"backbone": "light", "backbone_kwargs": {"filters": 4}}
    with pytest.raises(ValueError, match="groups"):
        keras_segen.fpn((32, 32, 3), 3, segmentation_filters=20, **light)
    with pytest.raises(ValueError, match="merge"):
        keras_segen.fpn((32, 32, 3), 3, merge="concat", **light)
    with pytest.raises(ValueError, match="decoder_filters"):
        keras_segen.unet_plus_plus((32, 32, 3), 3, decoder_filters=(16, 8), **light)
    with pytest.raises(ValueError, match="encoder_depth"):
        keras_segen.pspnet((32, 32, 3), 3, encoder_depth=6, **light)
    with pytest.raises(ValueError, match="stride 8"):  # PSPNet at depth 3 needs multiples of 8
        keras_segen.pspnet((36, 36, 3), 3, **light)
    assert keras_segen.pspnet((40, 40, 3), 3, psp_filters=8, **light).output_shape[1] == 40
