"""The shared headless notebook runner: scratch registry and runs folder, parameters, environment restored."""

from __future__ import annotations

import os

import nbformat
import pytest

from kit.papermill_run import run_headless


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"c{i:02d}") for i, s in enumerate(sources)]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_run_headless_uses_the_scratch_folder_and_restores_the_environment(tmp_path):
    nb = _notebook(tmp_path / "nbs" / "x.ipynb", "word = 'default'",
                   "import os\nprint(os.environ['KIT_RUNS'], os.environ['KIT_PROGRESS'], word)")
    before = {k: os.environ.get(k) for k in ("KIT_REGISTRY", "KIT_RUNS", "KIT_PROGRESS")}
    executed = run_headless(notebook=nb, scratch=tmp_path / "scratch", parameters={"word": "given"})
    [printed] = [c for c in executed.cells if c.get("id") == "c01"][0].outputs
    assert printed["text"] == f"{tmp_path / 'scratch' / 'runs'} 0 given\n"
    assert (tmp_path / "scratch" / "x.ipynb").is_file()
    assert {k: os.environ.get(k) for k in before} == before
