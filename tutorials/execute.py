"""Re-runs tutorial notebooks with their default settings and saves them with the outputs.

Usage: ``python tutorials/execute.py [02_gans ...]`` (all notebooks when no name is given).
Runs go to a temporary folder; stderr logs (TensorFlow's start-up noise) are dropped from
the saved outputs so the notebooks stay readable. CI runs the fast setting instead
(``tests/test_tutorials.py``).
"""

import os
import pathlib
import sys
import tempfile
import time

import nbclient
import nbformat

TUTORIALS = pathlib.Path(__file__).resolve().parent


def execute(path, workdir):
    """Executes one notebook in ``workdir`` and writes it back with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": workdir}}
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                output for output in cell.outputs
                if not (output.output_type == "stream" and output.name == "stderr")
            ]  # fmt: skip
    nbformat.write(notebook, path)


def main(names):
    """Executes the named notebooks (all when ``names`` is empty), printing the time each took."""
    paths = [TUTORIALS / f"{name}.ipynb" for name in names] or sorted(TUTORIALS.glob("*.ipynb"))
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        sys.exit(f"no such notebook: {', '.join(missing)}")
    os.environ.pop("KERAS_SEGEN_TUTORIAL_FAST", None)
    os.environ.setdefault("KERAS_SEGEN_REPOSITORY", str(TUTORIALS.parent))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for path in paths:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as workdir:
            execute(path, workdir)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
