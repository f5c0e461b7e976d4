"""Every ``paper`` preset against its reference: output size and parameter count.

The counts are worked out here from the reference networks' layer tables (the papers and
the authors' code named in each test), never read from our builders.
"""

import keras
import numpy as np
import pytest

import keras_segen


def conv(k, c_in, c_out, bias=True):
    """Parameters of a k x k convolution (or a transposed one) from c_in to c_out channels."""
    return k * k * c_in * c_out + (c_out if bias else 0)


def separable(c_in, c_out):
    """DeepLab's separable 3x3 convolution: depthwise, BN, pointwise, BN (4 numbers per BN)."""
    return conv(3, 1, c_in, bias=False) + 4 * c_in + conv(1, c_in, c_out, bias=False) + 4 * c_out


def trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def frozen(model):
    return sum(int(np.prod(weight.shape)) for weight in model.non_trainable_weights)


def paper(name):
    return keras_segen.get_model(name, preset="paper")


# VGG16's conv body (Simonyan & Zisserman 2015, configuration D), with biases.
VGG16_CONVS = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
               (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]  # fmt: skip
VGG16_BODY = sum(conv(3, a, b) for a, b in VGG16_CONVS)


@pytest.mark.parametrize(
    "preset, upsampling",
    [
        # voc-fcn8s: upscore2 (4x4), upscore_pool4 (4x4), upscore8 (16x16), no biases.
        ("paper", conv(4, 21, 21, False) * 2 + conv(16, 21, 21, False)),
        # voc-fcn16s: upscore2 (4x4) and upscore16 (32x32).
        ("paper_16s", conv(4, 21, 21, False) + conv(32, 21, 21, False)),
        # voc-fcn32s: upscore (64x64).
        ("paper_32s", conv(64, 21, 21, False)),
    ],
)
def test_fcn_voc_models(preset, upsampling):
    model = keras_segen.get_model("fcn", preset=preset)
    scorers = {"paper": (512, 256), "paper_16s": (512,), "paper_32s": ()}[preset]
    expected = (
        VGG16_BODY
        + conv(7, 512, 4096)  # fc6
        + conv(1, 4096, 4096)  # fc7
        + conv(1, 4096, 21)  # score_fr
        + sum(conv(1, c, 21) for c in scorers)  # score_pool4, score_pool3
        + upsampling
    )
    assert model.count_params() == expected
    assert model.output_shape == (None, 512, 512, 21)


def test_unet_paper_network():
    model = paper("unet")
    widths = [64, 128, 256, 512, 1024]
    contracting = [conv(3, 1, 64) + conv(3, 64, 64)] + [
        conv(3, a, b) + conv(3, b, b) for a, b in zip(widths, widths[1:])
    ]
    expanding = [conv(2, b, a) + conv(3, b, a) + conv(3, a, a) for a, b in zip(widths, widths[1:])]
    assert model.count_params() == sum(contracting) + sum(expanding) + conv(1, 64, 2) == 31_030_658
    assert model.output_shape == (None, 388, 388, 2)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.rate for layer in dropouts] == [0.5, 0.5]  # end of the contracting path
    kernels = [layer for layer in model.layers if hasattr(layer, "kernel_initializer")]
    assert len(kernels) == 23 and all(
        isinstance(layer.kernel_initializer, keras.initializers.HeNormal) for layer in kernels
    )


def test_segnet_camvid_model():
    """SegNet-Tutorial ``segnet_train.prototxt``: biased convs + BN, 11 classes, 360x480."""
    decoder = [(512, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 256),
               (256, 256), (256, 256), (256, 128), (128, 128), (128, 64), (64, 64)]  # fmt: skip
    batch_norm_channels = sum(b for _, b in VGG16_CONVS) + sum(b for _, b in decoder)
    convolutions = VGG16_BODY + sum(conv(3, a, b) for a, b in decoder) + conv(3, 64, 11)
    model = paper("segnet")
    assert trainable(model) == convolutions + 2 * batch_norm_channels == 29_449_355
    assert model.output_shape == (None, 360, 480, 11)
    # Caffe's ceil-mode pooling and upsample_h: 45 -> 23 -> 12 rows and back.
    unpooled = [model.get_layer(f"decoder{b}_unpool").output.shape[1:3] for b in (5, 4)]
    assert [tuple(size) for size in unpooled] == [(23, 30), (45, 60)]


def test_deeplab_reference_configuration():
    """tensorflow/models research/deeplab, MobileNetV2 at output stride 16."""
    model = paper("deeplabv3_plus")
    encoder = model.get_layer("encoder")
    # layer_4/depthwise_output (144 channels, stride 4) and layer_18 (320 channels).
    assert [tuple(encoder.output[level].shape[1:]) for level in ("P2", "P5")] == [
        (128, 128, 144), (32, 32, 320)]  # fmt: skip
    head = (
        conv(1, 320, 256, False) + 4 * 256  # ASPP 1x1
        + 3 * separable(320, 256)  # atrous rates 6, 12, 18
        + conv(1, 320, 256, False) + 4 * 256  # image pooling
        + conv(1, 5 * 256, 256, False) + 4 * 256  # concat projection
        + conv(1, 144, 48, False) + 4 * 48  # low-level features
        + separable(256 + 48, 256) + separable(256, 256)  # decoder
        + conv(1, 256, 21)  # logits
    )  # fmt: skip
    assert model.count_params() - encoder.count_params() == head == 921_093
    assert model.output_shape == (None, 512, 512, 21)


def test_reseg_camvid_model():
    """fvisin/reseg ``evaluate_camvid.py``: frozen VGG16 to conv3_3, GRU ReNets, 2x2 up."""
    def gru(n_in, units=100):  # Lasagne GRULayer: W_in, W_hid and b for 3 gates
        return 3 * (n_in * units + units * units + units)

    renet = 2 * gru(256) + 2 * gru(200) + 2 * (2 * gru(200))  # rows, columns; 2 layers
    upsampling = conv(2, 200, 50) + conv(2, 50, 50)
    model = paper("reseg")
    assert trainable(model) == renet + upsampling + conv(1, 50, 12) == 806_712
    assert frozen(model) == sum(conv(3, a, b) for a, b in VGG16_CONVS[:7]) == 1_735_488
    assert model.output_shape == (None, 360, 480, 12)


def test_dcgan_authors_networks():
    """Newmu/dcgan_code ``faces/train_uncond_dcgan.py``: nz 100, ngf = ndf = 128, 5x5."""
    generator, discriminator = paper("dcgan_generator"), paper("dcgan_discriminator")
    generator_params = (
        100 * 1024 * 16 + 2 * 1024 * 16  # gw, gg, gb: BN per unit of the projection
        + conv(5, 1024, 512, False) + 2 * 512
        + conv(5, 512, 256, False) + 2 * 256
        + conv(5, 256, 128, False) + 2 * 128
        + conv(5, 128, 3, False)  # gwx
    )  # fmt: skip
    discriminator_params = (
        conv(5, 3, 128, False)
        + conv(5, 128, 256, False) + 2 * 256
        + conv(5, 256, 512, False) + 2 * 512
        + conv(5, 512, 1024, False) + 2 * 1024
        + 1024 * 16  # dwy, no bias
    )  # fmt: skip
    assert trainable(generator) == generator_params == 18_885_760
    assert trainable(discriminator) == discriminator_params == 17_232_768
    assert generator.output_shape == (None, 64, 64, 3)
    assert discriminator.output_shape == (None, 1)


def test_pix2pix_authors_networks():
    """junyanz/pytorch-CycleGAN-and-pix2pix: unet_256 and the basic 70x70 PatchGAN."""
    generator, discriminator = paper("pix2pix_generator"), paper("patchgan_discriminator")
    down = [(3, 64), (64, 128), (128, 256), (256, 512)] + [(512, 512)] * 4
    down_bn = [128, 256, 512, 512, 512, 512]  # not the outermost nor the innermost
    up = [(512, 512)] + [(1024, 512)] * 3 + [(1024, 256), (512, 128), (256, 64)]
    generator_params = (
        sum(conv(4, a, b, False) for a, b in down) + 2 * sum(down_bn)
        + sum(conv(4, a, b, False) + 2 * b for a, b in up)
        + conv(4, 128, 3)  # outermost up-convolution, with bias
    )  # fmt: skip
    assert trainable(generator) == generator_params == 54_413_955
    patch = (
        conv(4, 6, 64)
        + conv(4, 64, 128, False) + 2 * 128
        + conv(4, 128, 256, False) + 2 * 256
        + conv(4, 256, 512, False) + 2 * 512
        + conv(4, 512, 1)
    )  # fmt: skip
    assert trainable(discriminator) == patch == 2_768_705
    # padw = 1 and 4x4 kernels: 256 -> 128 -> 64 -> 32 -> 31 -> 30.
    assert discriminator.output_shape == (None, 30, 30, 1)


def test_confidence_discriminator_paper_network():
    # AdvSemiSeg's FCDiscriminator on 21-class VOC maps: 4x4 stride-2 convolutions of
    # 64, 128, 256, 512 and 1 channels with biases; the logit map is resized to the input.
    discriminator = paper("confidence_discriminator")
    expected = (
        conv(4, 21, 64) + conv(4, 64, 128) + conv(4, 128, 256) + conv(4, 256, 512)
        + conv(4, 512, 1)
    )  # fmt: skip
    assert trainable(discriminator) == expected == 2_783_169
    assert discriminator.output_shape == (None, 321, 321, 1)


def spade(c_in, c_out, hidden=128):
    """NVlabs/SPADE ``SPADE``: shared 3x3 conv to ``hidden`` + ReLU, 3x3 convs to gamma and
    beta; the norm has no parameters."""
    return conv(3, c_in, hidden) + 2 * conv(3, hidden, c_out)


def spade_resblock(c_in, c_out, labels):
    """``SPADEResnetBlock``: two SPADE + 3x3 conv stages (via min(c_in, c_out) channels),
    and a SPADE + bias-free 1x1 conv shortcut when the width changes."""
    middle = min(c_in, c_out)
    block = spade(labels, c_in) + conv(3, c_in, middle) + spade(labels, middle)
    block += conv(3, middle, c_out)
    if c_in != c_out:
        block += spade(labels, c_in) + conv(1, c_in, c_out, bias=False)
    return block


def test_spade_authors_networks():
    """NVlabs/SPADE on Cityscapes (35 labels + instance edges = 36 channels, ngf = ndf = 64,
    'more' upsampling): SPADEGenerator without the VAE, and the 2-scale, 4-layer
    MultiscaleDiscriminator with spectral instance norm (bias-free normalised convs).
    PyTorch counts the same numbers for the authors' modules built with these options."""
    generator, discriminator = paper("spade_generator"), paper("spade_discriminator")
    widths = [1024, 1024, 1024, 1024, 512, 256, 128, 64]  # head_0, G_middle_0/1, up_0..up_3
    generator_params = (
        conv(3, 36, 1024)  # fc on the label map resized to 4 x 8
        + sum(spade_resblock(a, b, 36) for a, b in zip(widths, widths[1:]))
        + conv(3, 64, 3)  # conv_img
    )
    assert trainable(generator) == generator_params == 93_048_003
    assert generator.output_shape == (None, 256, 512, 3)
    scale = (
        conv(4, 39, 64)
        + conv(4, 64, 128, False) + conv(4, 128, 256, False) + conv(4, 256, 512, False)
        + conv(4, 512, 1)
    )  # fmt: skip
    assert trainable(discriminator) == 2 * scale == 5_601_410
    # 2-pixel padding and 4x4 kernels: 256 x 512 -> 129 x 257 -> 65 x 129 -> 33 x 65,
    # then stride 1: 34 x 66 -> 35 x 67; the second scale starts at 128 x 256.
    first, second = discriminator.output
    assert first[-1].shape == (None, 35, 67, 1)
    assert second[-1].shape == (None, 19, 35, 1)


def test_every_paper_preset_is_checked_here():
    names = keras_segen.list_models()
    with_paper = {name for name in names if "paper" in keras_segen.list_presets(name)}
    assert with_paper == {
        "fcn", "unet", "segnet", "deeplabv3_plus", "reseg", "dcgan_generator",
        "dcgan_discriminator", "pix2pix_generator", "patchgan_discriminator",
        "confidence_discriminator", "spade_generator", "spade_discriminator",
        # against segmentation_models.pytorch in tests/models/test_new_decoders.py
        "fpn", "pspnet", "linknet", "unet_plus_plus",
    }  # fmt: skip
