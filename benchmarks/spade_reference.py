"""keras_segen's SPADE networks against NVlabs/SPADE's PyTorch modules, weights copied.

Usage (the project's environment, plus a Python with PyTorch, such as the SMP venv):
    python benchmarks/spade_reference.py --reference PATH/TO/NVlabs/SPADE \
        --torch-python /work/smp-venv/bin/python [--out FILE]

1. Parameter counts of the ``paper`` presets (Cityscapes: 36 label channels, ngf = ndf =
   64, 'more' upsampling, spectral sync-batch SPADE, spectral instance-norm discriminator)
   against the authors' ``SPADEGenerator`` and ``MultiscaleDiscriminator`` built with the
   same options.
2. Outputs: a small generator (ngf 4, 4 classes, 64x64, instance-norm SPADE, the authors'
   128 hidden channels, no spectral norm: PyTorch's power-iteration state differs) and
   the discriminator (ndf 4) get random weights in Keras; the same weights are copied into
   the authors' modules, and the generated images and every discriminator feature map
   are compared.

The reference checkout is imported as it is; two modules it needs and that are not part
of the networks (``util.util``, a git submodule ``sync_batchnorm``) are replaced by
stand-ins in a temporary folder (``BatchNorm2d`` for ``SynchronizedBatchNorm2d``).
Writes ``benchmarks/results/spade_reference.md``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from results_file import publish

RESULTS = os.path.join(os.path.dirname(__file__), "results", "spade_reference.md")
SMALL = dict(size=64, classes=4, filters=4)
UTIL_STAND_IN = '''import importlib
def find_class_in_module(target_cls_name, module):
    target = target_cls_name.replace("_", "").lower()
    found = importlib.import_module(module).__dict__
    return next(value for name, value in found.items() if name.lower() == target)
'''


def keras_side(folder):
    """Builds the Keras networks, draws weights, writes inputs, weights and outputs."""
    import keras

    import keras_segen

    counts = {}
    for name in ("spade_generator", "spade_discriminator"):
        model = keras_segen.get_model(name, "paper")
        counts[name] = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    size, classes, filters = SMALL["size"], SMALL["classes"], SMALL["filters"]
    generator = keras_segen.spade_generator(
        (size, size, classes), filters=filters, norm="instance", spectral_normalization=False
    )
    discriminator = keras_segen.spade_discriminator(
        (size, size, classes), filters=filters, spectral_normalization=False
    )
    rng = np.random.default_rng(0)
    for model in (generator, discriminator):
        for weight in model.weights:
            weight.assign(rng.normal(0, 0.05, weight.shape).astype("float32"))
    labels = np.eye(classes, dtype="float32")[rng.integers(0, classes, (2, size, size))]
    image = keras.ops.convert_to_numpy(generator(labels))
    features = discriminator([labels, image])
    arrays = {"labels": labels, "image": image}
    for scale, maps in enumerate(features):
        for index, feature in enumerate(maps):
            arrays[f"feature{scale}_{index}"] = keras.ops.convert_to_numpy(feature)
    for model in (generator, discriminator):
        for weight in model.weights:
            arrays["weight:" + weight.path] = keras.ops.convert_to_numpy(weight)
    np.savez(os.path.join(folder, "keras.npz"), **arrays)
    return counts


def _keras_path(torch_name):
    """The Keras weight path of a reference parameter name."""
    import re

    kind = "kernel" if torch_name.endswith("weight") else "bias"
    scale = re.match(r"discriminator_(\d)\.model(\d)\.", torch_name)
    if scale:
        return f"scale{int(scale[1]) + 1}_layer{scale[2]}_conv/{kind}"
    module = torch_name.rsplit(".", 1)[0]
    spade = re.match(r"(\w+)\.(norm_\w)\.mlp_(shared\.0|gamma|beta)$", module)
    if spade:
        part = "shared" if spade[3].startswith("shared") else spade[3]
        return f"{spade[1]}_{spade[2]}/{part}/{kind}"
    return module.replace(".", "_") + f"/{kind}"


def torch_side(folder, reference):
    """Builds the authors' modules, copies the Keras weights, compares; returns the report."""
    import argparse as options
    import types

    import torch

    stand_ins = os.path.join(folder, "stand_ins")
    os.makedirs(os.path.join(stand_ins, "util"), exist_ok=True)
    open(os.path.join(stand_ins, "util", "__init__.py"), "w").close()
    with open(os.path.join(stand_ins, "util", "util.py"), "w") as file:
        file.write(UTIL_STAND_IN)
    sync = types.ModuleType("models.networks.sync_batchnorm")
    sync.SynchronizedBatchNorm2d = torch.nn.BatchNorm2d
    sys.modules["models.networks.sync_batchnorm"] = sync
    sys.path[:0] = [stand_ins, reference]
    from models.networks.discriminator import MultiscaleDiscriminator
    from models.networks.generator import SPADEGenerator

    def opt(**changes):
        values = dict(
            ngf=64, ndf=64, norm_G="spectralspadesyncbatch3x3", norm_D="spectralinstance",
            semantic_nc=36, label_nc=35, output_nc=3, contain_dontcare_label=False,
            no_instance=False, num_upsampling_layers="more", crop_size=512, aspect_ratio=2.0,
            use_vae=False, z_dim=256, n_layers_D=4, num_D=2, no_ganFeat_loss=False,
            netD_subarch="n_layer",
        )  # fmt: skip
        values.update(changes)
        return options.Namespace(**values)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    report = {
        "reference_counts": {
            "spade_generator": count(SPADEGenerator(opt())),
            "spade_discriminator": count(MultiscaleDiscriminator(opt())),
        }
    }
    size, classes, filters = SMALL["size"], SMALL["classes"], SMALL["filters"]
    # label_nc + dontcare = semantic_nc = 4; the discriminator adds output_nc = 3.
    small = opt(ngf=filters, ndf=filters, norm_G="spadeinstance3x3", semantic_nc=classes,
                label_nc=classes - 1, contain_dontcare_label=True, no_instance=True,
                num_upsampling_layers="normal", crop_size=size, aspect_ratio=1.0)  # fmt: skip
    generator, discriminator = SPADEGenerator(small), MultiscaleDiscriminator(small)
    for module in discriminator.modules():  # plain convolutions, as on the Keras side
        if hasattr(module, "weight_orig"):
            torch.nn.utils.remove_spectral_norm(module)
    arrays = np.load(os.path.join(folder, "keras.npz"))
    with torch.no_grad():
        for network in (generator, discriminator):
            for name, parameter in network.named_parameters():
                value = arrays["weight:" + _keras_path(name)]
                if value.ndim == 4:
                    value = np.transpose(value, (3, 2, 0, 1))
                parameter.copy_(torch.from_numpy(value))
        generator.eval(), discriminator.eval()
        labels = torch.from_numpy(np.transpose(arrays["labels"], (0, 3, 1, 2)))
        image = generator(labels)
        report["generator_max_abs_diff"] = float(
            np.abs(np.transpose(image.numpy(), (0, 2, 3, 1)) - arrays["image"]).max()
        )
        report["generator_output_max_abs"] = float(np.abs(arrays["image"]).max())
        keras_image = torch.from_numpy(np.transpose(arrays["image"], (0, 3, 1, 2)))
        features = discriminator(torch.cat([labels, keras_image], 1))
        differences = []
        for scale, maps in enumerate(features):
            for index, feature in enumerate(maps):
                expected = arrays[f"feature{scale}_{index}"]
                got = np.transpose(feature.numpy(), (0, 2, 3, 1))
                assert got.shape == expected.shape, (scale, index, got.shape, expected.shape)
                differences.append(float(np.abs(got - expected).max()))
        report["discriminator_feature_maps"] = len(differences)
        report["discriminator_max_abs_diff"] = max(differences)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="a checkout of NVlabs/SPADE")
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--torch-side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_side:
        print(json.dumps(torch_side(args.torch_side, os.path.abspath(args.reference))))
        return
    with tempfile.TemporaryDirectory() as folder:
        counts = keras_side(folder)
        command = [args.torch_python, os.path.abspath(__file__), "--reference",
                   args.reference, "--torch-side", folder]  # fmt: skip
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        report = json.loads(output.strip().splitlines()[-1])
    lines = [
        "# SPADE against NVlabs/SPADE (PyTorch)",
        "",
        "`python benchmarks/spade_reference.py --reference NVlabs/SPADE --torch-python ...`",
        "",
        "| network (paper preset) | keras_segen | NVlabs/SPADE |",
        "|---|---:|---:|",
    ]
    for name, keras_count in counts.items():
        lines.append(f"| {name} | {keras_count:,} | {report['reference_counts'][name]:,} |")
    lines += [
        "",
        f"Same weights, ngf = ndf = {SMALL['filters']}, {SMALL['classes']} classes at "
        f"{SMALL['size']}x{SMALL['size']}, instance-norm SPADE with 128 hidden channels, no "
        "spectral norm:",
        "",
        f"- generated images: max |difference| {report['generator_max_abs_diff']:.2e} "
        f"(largest |value| {report['generator_output_max_abs']:.2f})",
        f"- discriminator: {report['discriminator_feature_maps']} feature maps, max "
        f"|difference| {report['discriminator_max_abs_diff']:.2e}",
    ]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
