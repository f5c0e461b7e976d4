"""The README's Python examples run as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "unet.keras").exists()


def test_readme_test_command_is_what_ci_runs():
    command = re.search(r"^pip install .*pytest.*$", README.read_text(), flags=re.M).group(0)
    ci = (README.parent / ".ci" / "run").read_text()
    assert command in ci
