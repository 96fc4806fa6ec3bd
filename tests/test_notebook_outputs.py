"""Reference outputs for stable notebook cells: lookup, staleness, and nbval really comparing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from kit.errors import KitError
from tests.nbrefs import TAG, attach, checked_cells, main, reference_file, stale_references

ROOT = Path(__file__).resolve().parent.parent


def _notebook(path: Path, source: str, *, tagged: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source, id="c01")
    if tagged:
        cell.metadata["tags"] = [TAG]
    nb.cells = [cell, nbformat.v4.new_code_cell("print('not compared')", id="c02")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _reference(refs: Path, notebook: Path, text: str, *, source: str | None = None) -> None:
    import hashlib

    cell = nbformat.read(notebook, as_version=4).cells[0]
    sha = hashlib.sha256((source if source is not None else cell.source).encode()).hexdigest()[:16]
    out = reference_file(notebook, refs_dir=refs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cells": {"c01": {"source_sha": sha, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": text}]}}}))


def test_checked_cells_by_tag_or_comment(tmp_path):
    tagged = nbformat.read(_notebook(tmp_path / "a.ipynb", "print(1)"), as_version=4)
    commented = nbformat.read(_notebook(tmp_path / "b.ipynb", "# NBVAL_CHECK_OUTPUT\nprint(1)", tagged=False), as_version=4)
    plain = nbformat.read(_notebook(tmp_path / "c.ipynb", "print(1)", tagged=False), as_version=4)
    assert [c.id for c in checked_cells(tagged)] == ["c01"]
    assert [c.id for c in checked_cells(commented)] == ["c01"]
    assert checked_cells(plain) == []


def test_stale_references_name_the_fix(tmp_path):
    nb = _notebook(tmp_path / "nbs" / "x.ipynb", "print('a')")
    refs = tmp_path / "refs"
    [missing] = stale_references([nb], refs_dir=refs)
    assert "no reference outputs" in missing and "python -m tests.nbrefs record nbs/x.ipynb" in missing
    _reference(refs, nb, "a\n", source="print('old')")
    [changed] = stale_references([nb], refs_dir=refs)
    assert "source changed" in changed
    _reference(refs, nb, "a\n")
    assert stale_references([nb], refs_dir=refs) == []


def test_bad_paths_get_one_line_errors(tmp_path):
    with pytest.raises(KitError, match="no such notebook; pass the path of an .ipynb file"):
        stale_references([tmp_path / "missing.ipynb"])
    (tmp_path / "notes.md").write_text("# not a notebook\n")
    with pytest.raises(KitError, match="is not a notebook"):
        stale_references([tmp_path / "notes.md"])


def test_attach_sets_reference_and_fails_stale_cells_after_running(tmp_path):
    nb_path = _notebook(tmp_path / "nbs" / "x.ipynb", "print('a')")
    refs = tmp_path / "refs"
    _reference(refs, nb_path, "a\n")
    cells = nbformat.read(nb_path, as_version=4).cells
    ran = []
    checked = SimpleNamespace(cell=cells[0], options={"check": True}, fspath=nb_path, runtest=lambda: ran.append(1))
    unchecked = SimpleNamespace(cell=cells[1], options={"check": False}, fspath=nb_path, runtest=lambda: None)
    assert attach([checked, unchecked, SimpleNamespace()], refs_dir=refs) == 1
    assert checked.cell.outputs[0]["text"] == "a\n" and checked.cell.execution_count == 1
    assert unchecked.cell.outputs == []

    stale = SimpleNamespace(cell=nbformat.v4.new_code_cell("print('b')", id="c01", metadata={"tags": [TAG]}),
                            options={"check": True}, fspath=nb_path, runtest=lambda: ran.append(2))
    assert attach([stale], refs_dir=refs) == 0
    with pytest.raises(KitError, match="source changed"):
        stale.runtest()
    assert ran == [2]  # the cell ran before failing: later cells may depend on it


@pytest.mark.slow
@pytest.mark.parametrize("reference, passes", [("a\n", True), ("b\n", False)])
def test_nbval_compares_attached_references(tmp_path, reference, passes):
    """A real nbval run: the matching reference passes, a different one fails with nbval's diff."""
    nb = _notebook(tmp_path / "nbs" / "x.ipynb", "print('a')")
    refs = tmp_path / "refs"
    _reference(refs, nb, reference)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        from tests.nbrefs import attach

        def pytest_collection_modifyitems(config, items):
            attach(items, refs_dir={str(refs)!r})
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-kernel-name", "python3", str(nb)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (run.returncode == 0) is passes, run.stdout[-3000:]
    if not passes:
        assert "Cell outputs differ" in run.stdout


def test_command_line_checks_and_names_bad_input(tmp_path, capsys):
    """``python -m tests.nbrefs check``: exit 0 when current, 1 with the fix when stale, 2 with one line for bad input."""
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such notebook" in err and len(err.strip().splitlines()) == 1
    nb = _notebook(tmp_path / "nbs" / "x.ipynb", "print('a')")
    assert main(["check", str(nb)]) == 1
    assert "python -m tests.nbrefs record nbs/x.ipynb" in capsys.readouterr().err
    assert main(["check"]) == 0
    assert "reference outputs current" in capsys.readouterr().out


def test_committed_references_are_current():
    """Every tagged cell in notebooks/ and solutions/ has a reference recorded from its current source."""
    paths = sorted(p for folder in ("notebooks", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
    tagged = [p for p in paths if checked_cells(nbformat.read(p, as_version=4))]
    assert len(tagged) >= 5, "stable cells across the path are tagged nbval-check-output"
    assert stale_references(tagged) == []
