"""The PyTorch side of benchmarks/encoders.py: segmentation_models.pytorch (SMP) encoders x
decoders, PyTorch eager and ONNX Runtime latency, parameters and multiply-adds.

The SMP virtual environment (``SMP_PYTHON``, by default /work/smp-venv; never a process
that imports TensorFlow): ``python -m venv /work/smp-venv``, then ``/work/smp-venv/bin/pip
install --isolated torch==2.14.1 torchvision==0.29.1 segmentation-models-pytorch==0.6.0
onnx onnxruntime`` (``--isolated`` skips local CPU-only torch wheels, whose torchvision
from the registry fails to load: "operator torchvision::nms does not exist").

Usage:
    /work/smp-venv/bin/python benchmarks/encoders_smp.py --serve [--threads 2]
    /work/smp-venv/bin/python benchmarks/encoders_smp.py --pairs resnet50:unet,... \
        [--size 256] [--classes 4] [--threads 2] [--repeats 5]

``--serve`` is how ``encoders.py`` drives it: a long-lived process that reads one JSON
command a line on stdin and answers one JSON line on stdout (``build``, ``time``, ``quit``),
so that its timings interleave round by round with the Keras and TFLite ones. ``build``
makes the SMP model (``encoder_weights=None``: nothing is downloaded), counts its trainable
parameters and the multiply-adds of its ``Conv2d``, ``ConvTranspose2d`` and ``Linear``
modules in one forward pass (hooks; the same layer kinds ``encoders.py`` counts on the Keras
side), exports it to ONNX (``torch.onnx.export``, TorchScript exporter, opset 17) and opens an
ONNX Runtime session. ``time`` returns the median milliseconds of ``repeats`` batch-1 calls
of PyTorch eager (``torch.inference_mode``) or ONNX Runtime, and the call times. Threads:
``torch.set_num_threads`` and ORT ``intra_op_num_threads`` = ``--threads``, one inter-op thread
each (``encoders.py`` starts it with ``OMP_WAIT_POLICY=PASSIVE``: on shared, busy cores
GNU OpenMP's spin-waiting stalls a 2-thread torch call by about 2 s).
``--pairs`` builds and times the given pairs once and prints them (a standalone check).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import onnxruntime
import segmentation_models_pytorch as smp
import torch

# Keras Applications name (keras_segen.list_backbones()) -> SMP encoder name.
SMP_ENCODERS = {
    "mobilenetv2": "mobilenet_v2",
    "mobilenetv3large": "tu-mobilenetv3_large_100",
    "mobilenetv3small": "tu-mobilenetv3_small_100",
    "efficientnetb0": "efficientnet-b0",
    "efficientnetb3": "efficientnet-b3",
    "efficientnetv2b0": "tu-tf_efficientnetv2_b0",
    "resnet50": "resnet50",
    "resnet50v2": "tu-resnetv2_50",
    "densenet121": "densenet121",
    "convnexttiny": "tu-convnext_tiny",
    "xception": "tu-legacy_xception",
    "vgg16": "vgg16",
}
SMP_DECODERS = {"unet": "Unet", "fpn": "FPN", "deeplabv3_plus": "DeepLabV3Plus"}


def count_macs(model, x):
    """Multiply-adds of the Conv2d / ConvTranspose2d / Linear modules in one forward pass."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.ConvTranspose2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total[0] += inputs[0].numel() * kernel * module.out_channels // module.groups
        elif isinstance(module, torch.nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total[0] += output.numel() * kernel * module.in_channels // module.groups
        elif isinstance(module, torch.nn.Linear):
            total[0] += output.numel() * module.in_features

    kinds = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    with torch.inference_mode():
        model(x)
    for handle in handles:
        handle.remove()
    return total[0] / x.shape[0]


class Worker:
    """Built SMP models and their ONNX Runtime sessions, by key."""

    def __init__(self, threads):
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        self.threads = threads
        self.models = {}
        self.directory = tempfile.mkdtemp(prefix="encoders_smp_")

    def build(self, key, encoder, decoder, size, classes):
        name = SMP_ENCODERS.get(encoder, encoder)
        kind = getattr(smp, SMP_DECODERS[decoder])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = kind(encoder_name=name, encoder_weights=None, classes=classes).eval()
            x = torch.from_numpy(np.random.default_rng(0).uniform(0, 1, (1, 3, size, size)))
            x = x.float()
            macs = count_macs(model, x)
            path = os.path.join(self.directory, f"{key}.onnx")
            torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False,
                              input_names=["image"], output_names=["logits"])  # fmt: skip
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        with torch.inference_mode():
            reference = model(x).numpy()
        ort_out = session.run(None, {"image": x.numpy()})[0]
        self.models[key] = (model, session, x)
        return {
            "smp_encoder": name,
            "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "gmacs": macs / 1e9,
            "onnx_mb": os.path.getsize(path) / 1e6,
            "ort_max_abs_diff": float(np.max(np.abs(reference - ort_out))),
        }

    def time(self, key, runtime, repeats):
        """Milliseconds of ``repeats`` calls after a warm-up, and their median."""
        model, session, x = self.models[key]
        if runtime == "eager":

            def call():
                with torch.inference_mode():
                    model(x)

        else:
            feed = {"image": x.numpy()}

            def call():
                session.run(None, feed)

        call()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        return {"times": times, "ms": statistics.median(times)}


def serve(worker):
    """One JSON command per stdin line -> one JSON answer per stdout line."""
    out = sys.stdout
    sys.stdout = sys.stderr  # anything the libraries print stays off the protocol
    for line in sys.stdin:
        command = json.loads(line)
        action = command.pop("cmd")
        if action == "quit":
            break
        try:
            answer = {"ok": True, **getattr(worker, action)(**command)}
        except Exception as error:  # an unsupported encoder x decoder pair is a table entry
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--pairs", default="mobilenetv2:unet")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    worker = Worker(args.threads)
    if args.serve:
        serve(worker)
        return
    for pair in args.pairs.split(","):
        encoder, decoder = pair.split(":")
        key = f"{encoder}_{decoder}"
        try:
            info = worker.build(key, encoder, decoder, args.size, args.classes)
        except Exception as error:
            print(f"{key}: not supported ({type(error).__name__}: {error})"[:300])
            continue
        eager = worker.time(key, "eager", args.repeats)["ms"]
        ort = worker.time(key, "ort", args.repeats)["ms"]
        print(f"{key}: {info} eager {eager:.1f} ms, ORT {ort:.1f} ms")


if __name__ == "__main__":
    main()
