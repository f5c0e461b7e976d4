"""Shared by the benchmark scripts: paired-seed tables and writing a results file."""

import os
import statistics


def paired_table(header, baseline, treated):
    """Markdown rows ``| seed | baseline | treated | difference |`` plus a mean (sd) row."""
    differences = [b - a for a, b in zip(baseline, treated)]
    spread = statistics.stdev(differences) if len(differences) > 1 else float("nan")
    return [
        header,
        "|---|---|---|---|",
        *(f"| {seed} | {a:.4f} | {b:.4f} | {b - a:+.4f} |"
          for seed, (a, b) in enumerate(zip(baseline, treated))),
        f"| mean | {statistics.mean(baseline):.4f} | {statistics.mean(treated):.4f} | "
        f"{statistics.mean(differences):+.4f} (sd {spread:.4f}) |",
    ]  # fmt: skip


def publish(lines, path):
    """Prints the lines and writes them to ``path`` (a Markdown results file)."""
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as file:
        file.write(text)
