"""Training-step throughput of keras_segen U-Nets on every Keras backend, and of the same
U-Net written in plain PyTorch (what a user would pick instead).

Usage:
    python benchmarks/backends.py [--steps 20] [--out benchmarks/results/backends.md]
        [--python torch=/path/to/python ...]   # a backend installed in another environment

Two models: the quickstart U-Net (``small`` preset, 64x64, batch 8) and a 256x256 U-Net
(filters 32, depth 4, batch 8). Each backend runs in its own process (``KERAS_BACKEND``);
a backend that is not installed is reported as such. A step is ``train_on_batch`` (Adam,
sparse cross-entropy) on random data; the first steps (tracing, compilation) are left out.
On a GPU machine with JAX and PyTorch but no TensorFlow, the TensorFlow row says so.
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time

MODELS = {
    "quickstart U-Net 64x64 (small preset)": dict(preset="small", size=64, filters=8, batch=8),
    "U-Net 256x256, filters 32": dict(preset=None, size=256, filters=32, batch=8),
}
WARMUP = 3
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def keras_rate(model_spec, steps):
    """Images/s of ``train_on_batch`` for the keras_segen U-Net on the current backend."""
    import keras
    import numpy as np

    import keras_segen

    size, batch = model_spec["size"], model_spec["batch"]
    kwargs = dict(input_shape=(size, size, 3), num_classes=4)
    if model_spec["preset"] is None:
        kwargs["filters"] = model_spec["filters"]
    model = keras_segen.get_model("unet", model_spec["preset"], **kwargs)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(True))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (batch, size, size, 3)).astype("float32")
    y = rng.integers(0, 4, (batch, size, size)).astype("int32")
    for _ in range(WARMUP):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)
    float(loss)  # waits for the last step
    return batch * steps / (time.perf_counter() - start)


def torch_reference_rate(model_spec, steps):
    """Images/s of the same U-Net (BN after every conv, transposed convs) in plain PyTorch."""
    import torch
    from torch import nn

    def double_conv(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )  # fmt: skip

    class UNet(nn.Module):
        def __init__(self, filters, depth=4, classes=4):
            super().__init__()
            widths = [filters * 2**level for level in range(depth + 1)]
            self.down = nn.ModuleList(
                [double_conv(3 if i == 0 else widths[i - 1], widths[i]) for i in range(depth)]
            )
            self.bottleneck = double_conv(widths[depth - 1], widths[depth])
            self.up = nn.ModuleList(
                [nn.ConvTranspose2d(widths[i + 1], widths[i], 2, 2) for i in reversed(range(depth))]
            )
            self.merge = nn.ModuleList(
                [double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))]
            )
            self.head = nn.Conv2d(filters, classes, 1)

        def forward(self, x):
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottleneck(x)
            for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
                x = merge(torch.cat([skip, up(x)], dim=1))
            return self.head(x)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    size, batch = model_spec["size"], model_spec["batch"]
    model = UNet(model_spec["filters"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, 3, size, size, device=device)
    y = torch.randint(0, 4, (batch, size, size), device=device)

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(WARMUP):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    return batch * steps / (time.perf_counter() - start)


def _worker(kind, steps):
    rates = {}
    for name, spec in MODELS.items():
        rate = torch_reference_rate if kind == "torch-reference" else keras_rate
        rates[name] = rate(spec, steps)
    device = "cpu"
    if kind in ("jax",):
        import jax

        device = jax.devices()[0].device_kind
    elif kind in ("torch", "torch-reference"):
        import torch

        device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    print(json.dumps({"rates": rates, "device": device}))


def _measure(kind, steps, python):
    module = "torch" if kind == "torch-reference" else kind
    if module not in python and importlib.util.find_spec(module) is None:
        return None, f"{module} not installed"
    path = os.pathsep.join([REPOSITORY, os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "KERAS_BACKEND": "torch" if kind == "torch-reference" else kind,
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": path}  # fmt: skip
    result = subprocess.run(
        [python.get(module, sys.executable), __file__, "--worker", kind, "--steps", str(steps)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if result.returncode:
        return None, "failed: " + result.stderr.strip().splitlines()[-1][:120]
    return json.loads(result.stdout.strip().splitlines()[-1]), ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    parser.add_argument(
        "--python", action="append", default=[], metavar="MODULE=PATH",
        help="interpreter to use for a backend (e.g. torch=/venvs/torch/bin/python)",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    python = dict(option.split("=", 1) for option in args.python)
    if args.worker:
        return _worker(args.worker, args.steps)
    kinds = {"tensorflow": "Keras, TensorFlow", "jax": "Keras, JAX", "torch": "Keras, PyTorch",
             "torch-reference": "plain PyTorch (reference)"}  # fmt: skip
    lines = [
        f"Training images/s, {args.steps} steps after {WARMUP} warm-up steps "
        f"({platform.machine()}, {os.cpu_count()} CPU cores visible).",
        "",
        "| backend | device | " + " | ".join(MODELS) + " |",
        "|---|---|" + "---|" * len(MODELS),
    ]
    for kind, label in kinds.items():
        measured, why = _measure(kind, args.steps, python)
        if measured is None:
            lines.append(f"| {label} | {why} |" + " |" * len(MODELS))
            continue
        rates = " | ".join(f"{measured['rates'][name]:.1f}" for name in MODELS)
        lines.append(f"| {label} | {measured['device']} | {rates} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as file:
            file.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
