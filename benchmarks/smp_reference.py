"""Reference parameter counts of segmentation_models.pytorch (SMP) decoders and heads.

Usage (in the separate SMP virtual environment, not the project's):
    /work/smp-venv/bin/python benchmarks/smp_reference.py [--out FILE]

Builds SMP's Unet, UnetPlusPlus, FPN, PSPNet, Linknet and DeepLabV3Plus with default arguments
(in_channels=3, encoder_weights=None: nothing is downloaded) on the encoders resnet50,
resnet101, efficientnet-b0, timm-efficientnet-b0, mobilenet_v2, densenet121 and vgg16, and
counts trainable parameters of the encoder, decoder and segmentation head (classes=5, and
classes=1 for the head). SMP's decoders see only the encoder's ``out_channels`` (plus, for Unet
and UnetPlusPlus, a center block when the encoder name starts with ``vgg``): the script checks
that by building the decoder classes directly from channel tuples, and against closed-form
formulas. Prints (and writes, default ``benchmarks/results/smp_reference.md``) Markdown tables.
"""

import argparse
import os
import warnings

import segmentation_models_pytorch as smp
import torch
from segmentation_models_pytorch.base import SegmentationHead
from segmentation_models_pytorch.decoders.deeplabv3.decoder import DeepLabV3PlusDecoder
from segmentation_models_pytorch.decoders.fpn.decoder import FPNDecoder
from segmentation_models_pytorch.decoders.linknet.decoder import LinknetDecoder
from segmentation_models_pytorch.decoders.pspnet.decoder import PSPDecoder
from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
from segmentation_models_pytorch.decoders.unetplusplus.decoder import UnetPlusPlusDecoder

ARCHITECTURES = ["Unet", "UnetPlusPlus", "FPN", "PSPNet", "Linknet", "DeepLabV3Plus"]
ENCODERS = [
    "resnet50",
    "resnet101",
    "efficientnet-b0",
    "timm-efficientnet-b0",
    "mobilenet_v2",
    "densenet121",
    "vgg16",
]
# Encoder out_channels tuples of the channel-only check (depth 5; PSPNet takes the first 4).
CHANNEL_SETS = {
    "resnet50/101": (3, 64, 256, 512, 1024, 2048),
    "efficientnet-b0": (3, 32, 24, 40, 112, 320),
    "mobilenet_v2": (3, 16, 24, 32, 96, 1280),
    "densenet121": (3, 64, 256, 512, 1024, 1024),
    "vgg16": (64, 128, 256, 512, 512, 512),
}
UNET_CHANNELS = (256, 128, 64, 32, 16)


def count(module):
    """Trainable parameters of ``module`` (0 for ``None``)."""
    if module is None:
        return 0
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ---------------------------------------------------------------- closed-form formulas


def _conv_bn(cin, cout, k):
    """k x k convolution without bias followed by BatchNorm (gamma, beta)."""
    return k * k * cin * cout + 2 * cout


def _unet_block(cin, skip, cout):
    """Two 3x3 Conv-BN-ReLU: (cin + skip) -> cout -> cout."""
    return _conv_bn(cin + skip, cout, 3) + _conv_bn(cout, cout, 3)


def _unet_plan(ch):
    """(in, skip, out) channels of the five Unet blocks for encoder channels ``ch``."""
    e = list(ch[1:])[::-1]
    ins = [e[0]] + list(UNET_CHANNELS[:-1])
    skips = e[1:] + [0]
    return ins, skips, list(UNET_CHANNELS)


def formula_decoder(arch, ch, center=False):
    """Closed-form trainable parameters of SMP's default decoder for encoder channels ``ch``."""
    if arch == "Unet":
        total = sum(_unet_block(*b) for b in zip(*_unet_plan(ch)))
        return total + (2 * _conv_bn(ch[-1], ch[-1], 3) if center else 0)
    if arch == "UnetPlusPlus":
        ins, skips, outs = _unet_plan(ch)
        total = 0
        for layer in range(4):
            for depth in range(layer + 1):
                if depth == 0:
                    b = (ins[layer], skips[layer] * (layer + 1), outs[layer])
                else:
                    b = (skips[layer - 1], skips[layer] * (layer + 1 - depth), skips[layer])
                total += _unet_block(*b) if b[2] else 0
        total += _unet_block(ins[4], 0, outs[4])
        return total + (2 * _conv_bn(ch[-1], ch[-1], 3) if center else 0)
    if arch == "FPN":
        lateral = sum(c * 256 + 256 for c in ch[-4:])  # 1x1 convs with bias (p5 and skips)
        seg = 4 * (9 * 256 * 128 + 2 * 128) + 3 * (9 * 128 * 128 + 2 * 128)  # conv + GroupNorm
        return lateral + seg
    if arch == "PSPNet":
        c = ch[3]  # encoder_depth=3
        q = c // 4
        pyramid = (c * q + q) + 3 * _conv_bn(c, q, 1)  # size-1 branch: bias, no BN
        return pyramid + _conv_bn(2 * c, 512, 1)
    if arch == "Linknet":
        e = list(ch[1:])[::-1] + [32]
        total = 0
        for cin, cout in zip(e[:-1], e[1:]):
            q = cin // 4
            transposed = 16 * q * q + q + 2 * q  # ConvTranspose2d 4x4 with bias, then BN
            total += _conv_bn(cin, q, 1) + transposed + _conv_bn(q, cout, 1)
        return total
    if arch == "DeepLabV3Plus":
        c, high = ch[-1], ch[2]
        separable = 9 * c + 256 * c + 2 * 256  # depthwise 3x3 + pointwise 1x1, no bias, BN
        aspp = 2 * _conv_bn(c, 256, 1) + 3 * separable + _conv_bn(5 * 256, 256, 1)
        after_aspp = 9 * 256 + 256 * 256 + 2 * 256
        block1 = _conv_bn(high, 48, 1)
        block2 = 9 * 304 + 304 * 256 + 2 * 256
        return aspp + after_aspp + block1 + block2
    raise ValueError(arch)


HEAD_IN_KERNEL = {  # (decoder output channels, head kernel size, head upsampling)
    "Unet": (16, 3, 1),
    "UnetPlusPlus": (16, 3, 1),
    "FPN": (128, 1, 4),
    "PSPNet": (512, 3, 8),
    "Linknet": (32, 1, 1),
    "DeepLabV3Plus": (256, 1, 4),
}


def formula_head(arch, classes):
    """Segmentation head: one k x k convolution with bias."""
    cin, k, _ = HEAD_IN_KERNEL[arch]
    return k * k * cin * classes + classes


# ---------------------------------------------------------------- SMP classes built directly


def build_decoder(arch, ch, center=False):
    """SMP's decoder class with the arguments its model passes by default."""
    if arch == "Unet":
        return UnetDecoder(ch, UNET_CHANNELS, n_blocks=5, use_norm="batchnorm",
                           attention_type=None, add_center_block=center,
                           interpolation_mode="nearest")
    if arch == "UnetPlusPlus":
        return UnetPlusPlusDecoder(ch, UNET_CHANNELS, n_blocks=5, use_norm="batchnorm",
                                   attention_type=None, interpolation_mode="nearest",
                                   center=center)
    if arch == "FPN":
        return FPNDecoder(list(ch), encoder_depth=5, pyramid_channels=256,
                          segmentation_channels=128, dropout=0.2, merge_policy="add",
                          interpolation_mode="nearest")
    if arch == "PSPNet":
        return PSPDecoder(list(ch[:4]), use_norm="batchnorm", out_channels=512, dropout=0.2)
    if arch == "Linknet":
        return LinknetDecoder(list(ch), prefinal_channels=32, n_blocks=5, use_norm="batchnorm")
    if arch == "DeepLabV3Plus":
        return DeepLabV3PlusDecoder(ch, encoder_depth=5, out_channels=256,
                                    atrous_rates=(12, 24, 36), output_stride=16,
                                    aspp_separable=True, aspp_dropout=0.5)
    raise ValueError(arch)


def build_head(arch, classes):
    cin, k, up = HEAD_IN_KERNEL[arch]
    return SegmentationHead(cin, classes, kernel_size=k, upsampling=up)


# ---------------------------------------------------------------- tables


def model_row(arch, encoder):
    """One row of the full-model table (or an 'unsupported' row)."""
    try:
        model = getattr(smp, arch)(encoder_name=encoder, encoder_weights=None, in_channels=3,
                                   classes=5)
        head1 = count(getattr(smp, arch)(encoder_name=encoder, encoder_weights=None,
                                         in_channels=3, classes=1).segmentation_head)
    except Exception as error:  # SMP refuses some pairs (e.g. dilation on VGG/DenseNet)
        message = " ".join(str(error).split())[:90]
        return f"| {arch} | {encoder} | unsupported: {type(error).__name__}: {message} |" + (
            " |" * 7)
    channels = tuple(model.encoder.out_channels)
    enc, dec = count(model.encoder), count(model.decoder)
    head = count(model.segmentation_head)
    center = arch in ("Unet", "UnetPlusPlus") and encoder.startswith("vgg")
    expected = formula_decoder(arch, channels, center) + formula_head(arch, 5)
    direct = count(build_decoder(arch, channels, center)) + count(build_head(arch, 5))
    check = "ok" if dec + head == expected == direct else f"MISMATCH {expected:,} {direct:,}"
    return (f"| {arch} | {encoder} | {channels} | {enc:,} | {dec:,} | {head:,} | {head1:,} | "
            f"{enc + dec + head:,} | {dec + head:,} | {check} |")


def channel_rows():
    rows = []
    for name, ch in CHANNEL_SETS.items():
        for arch in ARCHITECTURES:
            if arch == "DeepLabV3Plus" and name in ("densenet121", "vgg16"):
                continue  # SMP cannot dilate these encoders
            center = arch in ("Unet", "UnetPlusPlus") and name == "vgg16"
            direct = count(build_decoder(arch, ch, center))
            formula = formula_decoder(arch, ch, center)
            heads = [count(build_head(arch, k)) for k in (5, 1)]
            ok = direct == formula and heads == [formula_head(arch, k) for k in (5, 1)]
            used = ch[:4] if arch == "PSPNet" else ch
            rows.append(f"| {arch} | {name}{' (center)' if center else ''} | {used} | "
                        f"{direct:,} | {heads[0]:,} | {heads[1]:,} | {direct + heads[0]:,} | "
                        f"{'ok' if ok else f'MISMATCH formula {formula:,}'} |")
    return rows


FORMULAS = """\
Decoder and head parameter formulas (trainable: conv weights/biases, BN and GN gamma/beta;
BN running statistics are buffers, not counted). `c = (c0, c1, c2, c3, c4, c5)` are the
encoder's out_channels (c0 is the input itself, 3, except VGG where it is a 64-channel
full-resolution feature); K = classes; `cb(i, o, k) = k*k*i*o + 2*o` (conv without bias + BN).

- Unet: blocks (in, skip, out) = (c5, c4, 256), (256, c3, 128), (128, c2, 64), (64, c1, 32),
  (32, 0, 16); each `cb(in+skip, out, 3) + cb(out, out, 3)`; plus, for vgg encoders only, a
  center block `2*cb(c5, c5, 3)`. Head `9*16*K + K`.
- UnetPlusPlus: with in = (c5, 256, 128, 64, 32), skip = (c4, c3, c2, c1, 0),
  out = (256, 128, 64, 32, 16): block x_d_l for l = 0..3, d = 0..l: d = 0 ->
  (in[l], skip[l]*(l+1), out[l]); d > 0 -> (skip[l-1], skip[l]*(l+1-d), skip[l]); plus x_0_4 =
  (32, 0, 16); each block as in Unet; vgg center as in Unet. Head `9*16*K + K`.
- FPN: `256*(c2+c3+c4+c5) + 4*256` (1x1 lateral convs with bias) + `4*(9*256*128 + 256)`
  + `3*(9*128*128 + 256)` (3x3 conv without bias + GroupNorm(32)). Head `128*K + K`.
- PSPNet (encoder_depth 3, C = c3, q = C//4): `(C*q + q) + 3*cb(C, q, 1) + cb(2*C, 512, 1)`.
  Head `9*512*K + K`.
- Linknet: chain (c5, c4, c3, c2, c1, 32); block (a -> o), q = a//4:
  `cb(a, q, 1) + (16*q*q + q + 2*q) + cb(q, o, 1)` (transposed conv 4x4 keeps its bias).
  Head `32*K + K`.
- DeepLabV3Plus (C = c5, h = c2): `2*cb(C, 256, 1) + 3*(9*C + 256*C + 512) + cb(1280, 256, 1)`
  + `(9*256 + 256*256 + 512)` + `cb(h, 48, 1)` + `(9*304 + 304*256 + 512)`. Head `256*K + K`.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                      "smp_reference.md"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(0)

    lines = [
        f"# SMP reference parameter counts (segmentation_models_pytorch {smp.__version__}, "
        f"torch {torch.__version__.split('+')[0]})",
        "",
        "Written by `/work/smp-venv/bin/python benchmarks/smp_reference.py`. Default arguments,",
        "in_channels=3, encoder_weights=None; trainable parameters. Head and totals at",
        "classes=5; 'head K=1' is the head at classes=1. 'check': decoder+head equals both the",
        "decoder and head classes built from the channels alone and the formulas below. PSPNet",
        "builds its encoder at depth 3 but SMP keeps the unused stages, so its encoder column",
        "counts the whole backbone.",
        "",
        "## Full models",
        "",
        "| architecture | encoder | encoder out_channels | encoder | decoder | head K=5 | "
        "head K=1 | total | decoder+head | check |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for arch in ARCHITECTURES:
        for encoder in ENCODERS:
            lines.append(model_row(arch, encoder))
            print(lines[-1], flush=True)
    lines += [
        "",
        "## Decoder + head from the encoder channels alone",
        "",
        "SMP's decoders depend only on the encoder's out_channels (and, for Unet/UnetPlusPlus,",
        "on whether the encoder name starts with `vgg`, which adds a center block). Here the",
        "decoder and head classes are built directly from channel tuples, with the arguments",
        "the models pass by default; the counts equal the full models' above.",
        "",
        "| architecture | channels | channels used | decoder | head K=5 | head K=1 | "
        "decoder+head K=5 | formula |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    rows = channel_rows()
    lines += rows
    lines += ["", "## Formulas", "", FORMULAS]
    for row in rows:
        print(row)
    text = "\n".join(lines).rstrip() + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        handle.write(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
