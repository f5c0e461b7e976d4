"""``keras-segen export``: export, verify and time a model or run."""

from keras_segen.cli.options import single_size

# keras_segen.runs.export.FORMATS and keras_segen.export.convert.QUANTIZATIONS, named here
# so that --help imports no Keras.
FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = ("float16", "dynamic", "int8")


def _command_export(args):
    from keras_segen.runs import export_run

    report = export_run(
        args.model_or_run,
        format=args.format,
        quantize=args.quantize,
        calibration=args.calibration,
        input_size=args.input_size,
        out=args.out,
    )
    parity = ", ".join(
        f"{key} {report[key]:.4g}"
        for key in ("max_abs_diff", "argmax_agreement", "miou_vs_keras", "psnr_db")
        if key in report
    )
    print(f"wrote {report['artifact']} ({report['size_bytes'] / 1e6:.2f} MB, {report['runtime']})")
    print(f"parity: {parity}")
    latency = report["latency_ms"]
    print(
        f"latency per image: Keras (eager) {latency['keras_eager']:.2f} ms, artifact "
        f"{latency['artifact']:.2f} ms ({report['speedup']:.1f}x); report {report['artifact']}.json"
    )
    if "delegation" in report:
        delegation = report["delegation"]
        xnnpack = delegation["xnnpack"]
        on_cpu = ", ".join(f"{op} x{n}" for op, n in xnnpack["undelegated_ops"].items())
        print(
            f"XNNPACK: {xnnpack['partitions']} partition(s), "
            f"{xnnpack['delegated_share']:.0%} of ops delegated"
            + (f"; TFLite kernels run {on_cpu}" if on_cpu else "")
        )
        warnings = delegation["gpu_warnings"]
        print(f"GPU delegate: {'compatible' if not warnings else f'{len(warnings)} warning(s)'}")
    return 0


def add_export_parser(commands):
    """``keras-segen export``."""
    exporter = commands.add_parser("export", help="export, verify and time a model")
    exporter.add_argument("model_or_run", help="registered name, .keras file or run directory")
    exporter.add_argument(
        "--format", choices=FORMATS, default="tflite",
        help="artifact format (default: %(default)s)",
    )  # fmt: skip
    exporter.add_argument(
        "--quantize", choices=QUANTIZATIONS, help="TFLite quantization (default: none, float32)",
    )  # fmt: skip
    exporter.add_argument("--calibration", help="dataset of the calibration/parity samples")
    exporter.add_argument("--input-size", type=single_size, help="S or HxW")
    exporter.add_argument("--out", help="artifact path")
    exporter.set_defaults(handler=_command_export)
