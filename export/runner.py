"""On-device runner for keras_segen ``.tflite`` exports: needs only NumPy and a TFLite runtime.

The runtime: ai-edge-litert if installed, else tflite-runtime (Raspberry Pi OS, Coral and
in-vehicle images; 2.14 needs NumPy < 2); ``--runtime`` picks one.

It applies exactly the library's preprocessing (bilinear resize with half-pixel centres
as ``tf.image.resize``, scaling to [0, 1], int8 quantisation from the model's own
parameters), runs images or a folder through a segmenter and writes class masks and
overlays at each image's own size (masks: palette PNGs of class ids in ``keras-segen
predict``'s colours, a run's own with ``--colours config.json``), or draws images from a
generator, and benchmarks latency. A camera frame larger than the model input is segmented
like ``keras_segen.inference`` does it: overlapping tiles of the model's input size, logits
blended with a weight falling linearly from each tile's centre (``--mode tile``; ``auto``
picks it for large frames), or one pass at the model size (``--mode resize``).

    python runner.py model.tflite photos/ --out results/ --colours runs/unet/config.json
    python runner.py model.tflite frame_2048x1024.png --mode tile --overlap 0.5
    python runner.py generator.tflite --generate 16 --out samples/
    python runner.py model.tflite --benchmark --threads 4
    python runner.py model.tflite --benchmark --runtime tflite-runtime

PNG and ``.npy`` files are read and written with NumPy and zlib alone; JPEG needs Pillow.
"""

import argparse
import json
import os
import struct
import sys
import time
import zlib
from importlib import import_module, metadata

import numpy as np

PALETTE = np.array(  # keras_segen.viz.class_palette(): mask and overlay colours
    [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
     [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
     [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195],
     [128, 128, 0], [255, 215, 180], [0, 0, 128]], np.uint8,
)  # fmt: skip
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")
# TFLite runtimes, preferred first: (pip package, module holding the Interpreter).
RUNTIMES = (("ai-edge-litert", "ai_edge_litert.interpreter"),
            ("tflite-runtime", "tflite_runtime.interpreter"))  # fmt: skip


# --- image files -----------------------------------------------------------------------


def _unfilter(raw, height, width, channels):
    """Undoes PNG row filters (8-bit samples) -> ``(height, width, channels)`` uint8."""
    stride = width * channels
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            current = line
        elif kind == 2:
            current = (line + previous) % 256
        else:
            current = np.zeros(stride, np.int32)
            for x in range(stride):
                left = current[x - channels] if x >= channels else 0
                up = previous[x]
                if kind == 1:
                    predictor = left
                elif kind == 3:
                    predictor = (left + up) // 2
                else:  # Paeth: the neighbour nearest left + up - corner
                    corner = previous[x - channels] if x >= channels else 0
                    pa, pb, pc = abs(up - corner), abs(left - corner), abs(left + up - 2 * corner)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                current[x] = (line[x] + predictor) % 256
        out[y] = current
        previous = current
    return out.reshape(height, width, channels)


def read_png(path):
    """8-bit grey/RGB/RGBA, non-interlaced PNG -> ``(H, W, 3)`` uint8 (alpha dropped)."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file.")
    position, chunks, header = 8, [], None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB/RGBA PNGs (or Pillow).")
    image = _unfilter(zlib.decompress(b"".join(chunks)), height, width, channels)
    return np.ascontiguousarray(image[..., [0, 0, 0]] if channels < 3 else image[..., :3])


def write_png(path, image, palette=None):
    """An ``(H, W)`` or ``(H, W, 3)`` uint8 array as a PNG; ``(H, W)`` ids with ``palette``."""
    image = np.asarray(image, np.uint8)
    colour = 2 if image.ndim == 3 else (0 if palette is None else 3)
    height, width = image.shape[:2]
    raw = b"".join(b"\x00" + row.tobytes() for row in image.reshape(height, -1))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
    if colour == 3:
        header += chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes())
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(raw))
                   + chunk(b"IEND", b""))  # fmt: skip


def mask_palette(colours=None):
    """``keras-segen predict``'s 256 mask colours: ``colours`` (or ``PALETTE``) repeated."""
    return np.resize(np.asarray(PALETTE if colours is None else colours, np.uint8), (256, 3))


def read_image(path):
    """An image file as ``(H, W, 3)`` uint8: PNG and .npy natively, JPEG with Pillow."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npy":
        return np.load(path)
    try:
        from PIL import Image
    except ImportError:
        if suffix != ".png":
            raise ValueError(f"{path}: reading {suffix} files needs Pillow; PNG works without.")
        return read_png(path)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# --- the library's preprocessing, in NumPy ----------------------------------------------


def resize_bilinear(image, height, width):
    """``tf.image.resize(image, (height, width), "bilinear")`` (half-pixel centres), float32."""
    image = np.asarray(image, np.float32)

    def axis(out_size, in_size):
        coords = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
        floor = np.floor(coords)
        lower = np.maximum(floor, 0).astype(int)
        upper = np.minimum(np.ceil(coords), in_size - 1).astype(int)
        return lower, upper, (coords - floor).astype(np.float32)

    top, bottom, y_lerp = axis(height, image.shape[0])
    left, right, x_lerp = axis(width, image.shape[1])
    x_lerp = x_lerp[None, :, None]
    upper_row = image[top][:, left] + (image[top][:, right] - image[top][:, left]) * x_lerp
    lower_row = image[bottom][:, left] + (image[bottom][:, right] - image[bottom][:, left]) * x_lerp
    return upper_row + (lower_row - upper_row) * y_lerp[:, None, None]


def to_unit_range(image):
    """uint8 -> float32 in [0, 1] (floats are clipped)."""
    image = np.asarray(image)
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    return np.clip(image.astype(np.float32) / scale, 0.0, 1.0)


def tile_starts(length, tile, stride):
    """Start offsets of tiles covering ``length`` pixels, the last one flush with the end."""
    return [0] if length <= tile else list(range(0, length - tile, stride)) + [length - tile]


def tile_weight(height, width):
    """Tile blending weight: 1 at the centre, falling linearly to ``1 / size`` at the border."""

    def ramp(size):
        centres = (np.arange(size) + 0.5) / size
        return 2.0 * np.minimum(centres, 1.0 - centres)

    return np.outer(ramp(height), ramp(width)).astype(np.float32)


def sliding_window(image, tile_size, predict, overlap=0.5):
    """Logits ``(H, W, K)`` of a float ``(H, W, C)`` image from overlapping tiles;
    ``predict`` maps one ``(th, tw, C)`` tile to its ``(th, tw, K)`` logits."""
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1); got {overlap!r}.")
    height, width = image.shape[:2]
    tile_h, tile_w = tile_size
    padding = ((0, max(tile_h - height, 0)), (0, max(tile_w - width, 0)), (0, 0))
    padded = np.pad(image, padding, mode="edge")
    stride_h, stride_w = (max(1, int(round(size * (1 - overlap)))) for size in tile_size)
    weight = tile_weight(tile_h, tile_w)[..., None]
    total = weights = None
    for y in tile_starts(padded.shape[0], tile_h, stride_h):
        for x in tile_starts(padded.shape[1], tile_w, stride_w):
            logits = predict(padded[y : y + tile_h, x : x + tile_w])
            if total is None:
                total = np.zeros((*padded.shape[:2], logits.shape[-1]), np.float32)
                weights = np.zeros((*padded.shape[:2], 1), np.float32)
            total[y : y + tile_h, x : x + tile_w] += logits * weight
            weights[y : y + tile_h, x : x + tile_w] += weight
    return (total / weights)[:height, :width]


def preprocess(image, height, width):
    """uint8 ``HxWx3`` -> float32 in [0, 1] at ``height x width`` (``preprocess_image``)."""
    return np.clip(resize_bilinear(to_unit_range(image), height, width), 0.0, 1.0)


# --- the model ----------------------------------------------------------------------------


def interpreter_class(runtime=None):
    """``(Interpreter class, "package version")`` of ``runtime`` (a ``RUNTIMES`` package),
    or of the first runtime that imports when ``runtime`` is ``None``."""
    packages = tuple(dict(RUNTIMES))
    if runtime not in (None, *packages):
        raise ValueError(f"runtime must be one of {packages}; got {runtime!r}.")
    failures = []
    for package, module_name in RUNTIMES:
        try:
            if runtime in (None, package):
                module = import_module(module_name)
                return module.Interpreter, f"{package} {metadata.version(package)}"
        except ImportError as error:  # PackageNotFoundError is one too
            failures.append(f"{package}: {error}")
    raise ImportError(
        "runner.py needs a TFLite runtime: pip install ai-edge-litert (current LiteRT), or "
        'pip install tflite-runtime (older devices; tflite-runtime 2.14 needs "numpy<2"). '
        "Tried: " + "; ".join(failures)
    )


class Model:
    """A keras_segen ``.tflite`` export: inputs and outputs (de)quantised as float32."""

    def __init__(self, path, num_threads=None, runtime=None):
        interpreter, self.runtime = interpreter_class(runtime)
        self.interpreter = interpreter(model_path=path, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner()
        self.inputs = self.runner.get_input_details()
        self.outputs = self.runner.get_output_details()

    def _quantize(self, name, value):
        details = self.inputs[name]
        scale, zero_point = details["quantization"]
        if details["dtype"] == np.float32 or not scale:
            return np.asarray(value).astype(details["dtype"])
        info = np.iinfo(details["dtype"])
        quantized = np.round(np.asarray(value, np.float32) / scale + zero_point)
        return np.clip(quantized, info.min, info.max).astype(details["dtype"])

    def __call__(self, **inputs):
        """Named batch-1 inputs -> the first output as float32."""
        outputs = self.runner(**{name: self._quantize(name, v) for name, v in inputs.items()})
        name = sorted(outputs)[0]
        value, details = outputs[name], self.outputs[name]
        scale, zero_point = details["quantization"]
        if np.issubdtype(value.dtype, np.integer) and scale:
            return ((value.astype(np.float32) - zero_point) * scale).astype(np.float32)
        return value.astype(np.float32)

    @property
    def image_input(self):
        """``(name, height, width)`` of the image input, or ``None`` for a latent generator."""
        for name, details in self.inputs.items():
            if len(details["shape"]) == 4:
                return name, int(details["shape"][1]), int(details["shape"][2])
        return None

    def logits(self, image, mode="auto", overlap=0.5, scale=1.0):
        """Float32 logits ``(H, W, K)`` of a uint8 ``(H, W, 3)`` image at its own size."""
        if mode not in ("auto", "tile", "resize"):
            raise ValueError(f"mode must be auto, tile or resize; got {mode!r}.")
        name, height, width = self.image_input
        pixels = to_unit_range(image)
        size = pixels.shape[:2]
        scaled = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        if scale != 1.0:
            pixels = np.clip(resize_bilinear(pixels, *scaled), 0.0, 1.0)
        if mode == "tile" or (mode == "auto" and (scaled[0] > height or scaled[1] > width)):
            logits = sliding_window(
                pixels, (height, width), lambda tile: self(**{name: tile[None]})[0], overlap
            )
        else:
            logits = self(**{name: preprocess(pixels, height, width)[None]})[0]
        if logits.shape[:2] != size:
            logits = resize_bilinear(logits, *size)
        return logits

    def segment(self, image, mode="auto", overlap=0.5, scale=1.0):
        """uint8 image -> class mask ``(H, W)`` at the image's own size (see ``logits``)."""
        return self.logits(image, mode, overlap, scale).argmax(-1).astype(np.uint8)

    def generate(self, count, seed=0, num_classes=None):
        """Images in [0, 1] from ``count`` N(0, 1) latent vectors.

        A class-conditional generator also takes labels: ``0, 1, ..., num_classes - 1``
        in turn, so it needs ``num_classes``.
        """
        labels = [n for n, d in self.inputs.items() if np.issubdtype(d["dtype"], np.integer)]
        if labels and not num_classes:
            raise ValueError("This generator is class-conditional: give --num-classes.")
        rng = np.random.default_rng(seed)
        images = []
        for index in range(count):
            feed = {}
            for name, details in self.inputs.items():
                if name in labels:
                    feed[name] = np.array([index % num_classes], np.int32)
                else:
                    feed[name] = rng.normal(size=details["shape"]).astype(np.float32)
            images.append((self(**feed)[0] + 1.0) / 2.0)
        return np.clip(np.stack(images), 0.0, 1.0)


def overlay(image, mask, alpha=0.5, colours=None):
    """Class colours blended over a [0, 1] image as ``keras_segen.viz.overlay`` does: pixels of
    a class coloured black (class 0 by default) left as they are."""
    painted = mask_palette(colours)[mask].astype(np.float32) / 255.0
    blended = np.where(painted.any(-1, keepdims=True), (1 - alpha) * image + alpha * painted, image)
    return (blended * 255).round().astype(np.uint8)


def benchmark(model, repeats=50, warmup=5):
    """Latency percentiles (ms) of one inference on zeros: ``{"p50", "p90", "p99"}``."""
    feed = {name: np.zeros(details["shape"], np.float32) for name, details in model.inputs.items()}
    times = []
    for index in range(warmup + repeats):
        start = time.perf_counter()
        model(**feed)
        if index >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return {f"p{q}": float(np.percentile(times, q)) for q in (50, 90, 99)}


def _inputs(path):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_SUFFIXES))
        return [os.path.join(path, n) for n in names]
    return [path]


def main(argv=None):
    """Command line: segment images, generate samples, or benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .tflite file exported by keras_segen")
    parser.add_argument("inputs", nargs="?", help="image file or folder (segmenters)")
    parser.add_argument("--out", default="runner_out")
    parser.add_argument("--generate", type=int, metavar="N", help="draw N images (generators)")
    parser.add_argument("--num-classes", type=int, help="classes of a conditional generator")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--runtime", choices=[package for package, _ in RUNTIMES],
                        help="TFLite runtime (default: ai-edge-litert if installed)")  # fmt: skip
    parser.add_argument("--benchmark", action="store_true")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--mode", choices=("auto", "tile", "resize"), default="auto")
    parser.add_argument("--overlap", type=float, default=0.5, help="tile overlap in [0, 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="resize factor before tiling")
    parser.add_argument("--colours", help="a run's config.json: mask colours its class_colours")
    args = parser.parse_args(argv)
    model = Model(args.model, num_threads=args.threads, runtime=args.runtime)
    if args.benchmark:
        times = benchmark(model, args.repeats)
        print(f"{model.runtime}, threads {args.threads or 'default'}: p50 {times['p50']:.2f} ms, "
              f"p90 {times['p90']:.2f} ms, p99 {times['p99']:.2f} ms")  # fmt: skip
        return 0
    os.makedirs(args.out, exist_ok=True)
    if args.generate:
        for index, image in enumerate(model.generate(args.generate, args.seed, args.num_classes)):
            write_png(os.path.join(args.out, f"sample_{index:03d}.png"),
                      (image * 255).round().astype(np.uint8))  # fmt: skip
        print(f"wrote {args.generate} images to {args.out}")
        return 0
    if not args.inputs:
        parser.error("give inputs to segment, --generate N, or --benchmark")
    colours = None
    if args.colours:
        with open(args.colours) as file:
            colours = json.load(file).get("class_colours")
    for path in _inputs(args.inputs):
        image = read_image(path)
        mask = model.segment(image, args.mode, args.overlap, args.scale)
        stem = os.path.splitext(os.path.basename(path))[0]
        write_png(os.path.join(args.out, f"{stem}_mask.png"), mask, mask_palette(colours))
        write_png(os.path.join(args.out, f"{stem}_overlay.png"),
                  overlay(to_unit_range(image), mask, colours=colours))  # fmt: skip
    print(f"wrote masks and overlays to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
