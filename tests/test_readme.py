"""The README and the docs/*.md pages: their Python examples run, their links resolve."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _run_python_blocks(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    namespace = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
    return blocks


def test_readme_python_examples_run(tmp_path, monkeypatch):
    assert _run_python_blocks(README, tmp_path, monkeypatch)
    assert (tmp_path / "unet.keras").exists()


@pytest.mark.parametrize("page", [p for p in PAGES if p != README], ids=lambda p: p.name)
def test_docs_python_examples_run(page, tmp_path, monkeypatch):
    _run_python_blocks(page, tmp_path, monkeypatch)


def _anchors(page):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"(?m)^#+ (.*)$", page.read_text())
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page):
    dead = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            dead.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            dead.append(target)
    assert not dead, f"{page.name}: dead links {dead}"


def test_readme_test_command_is_what_ci_runs():
    command = re.search(r"^pip install .*pytest.*$", README.read_text(), flags=re.M).group(0)
    ci = (README.parent / ".ci" / "run").read_text()
    assert command in ci


def test_readme_first_screen_is_short():
    assert len(README.read_text().splitlines()) <= 100
