"""Start-up time of ``keras-segen`` commands and of ``import keras_segen``.

Usage:
    python benchmarks/startup.py [--runs 5] [--out FILE]

Runs each command ``--runs`` times in a fresh process and prints (and with ``--out``
writes) a Markdown table of the median wall time and whether TensorFlow was imported.
The fast path (``--version``, ``--help``, ``list``, ``info NAME``) must stay well under
a second; ``info NAME --preset tiny`` builds a model and so imports Keras.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

REPORT = "print('TF_IMPORTED' if 'tensorflow' in sys.modules else 'TF', file=sys.stderr)\n"
PROBE = (
    "import sys\n"
    "from keras_segen import cli\n"
    "try:\n"
    "    cli.main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n" + REPORT
)
COMMANDS = (
    ("import keras_segen", None),
    ("keras-segen --version", ["--version"]),
    ("keras-segen --help", ["--help"]),
    ("keras-segen list", ["list"]),
    ("keras-segen info unet", ["info", "unet"]),
    ("keras-segen info unet --preset tiny", ["info", "unet", "--preset", "tiny"]),
)


def time_command(argv, runs):
    """``(median seconds, TensorFlow imported)`` over ``runs`` fresh processes."""
    if argv is None:
        command = [sys.executable, "-c", "import sys, keras_segen\n" + REPORT]
    else:
        command = [sys.executable, "-c", PROBE, *argv]
    times, imported = [], False
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        imported = "TF_IMPORTED" in result.stderr
    return statistics.median(times), imported


def main():
    """Times every command and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    lines = [
        f"Fresh process each run, median of {args.runs}, {os.cpu_count()} cores",
        "",
        "| command | median s | imports TensorFlow |",
        "|---|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    for label, argv in COMMANDS:
        seconds, imported = time_command(argv, args.runs)
        lines.append(f"| `{label}` | {seconds:.3f} | {'yes' if imported else 'no'} |")
        print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as file:
            file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
