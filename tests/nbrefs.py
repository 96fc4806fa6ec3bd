"""Reference outputs for notebook cells whose output is stable, checked by nbval while notebooks stay clean.

Test-suite plumbing (not part of the installed kit). Notebooks are committed without outputs.
A code cell whose printed output must not change carries nbval's ``nbval-check-output`` tag
(or a ``# NBVAL_CHECK_OUTPUT`` line); its expected text lives in
``tests/notebook_outputs/<folder>/<notebook>.json`` (by cell id, with a hash of the cell's
source). The repository's ``conftest.py`` hands those outputs to nbval before each cell runs,
so nbval compares them (``--nbval-lax`` compares only marked cells). After a deliberate change,
re-execute the notebook and rewrite its file, or check that every reference is current::

    python -m tests.nbrefs record notebooks/05_when_not_to_quantize.ipynb
    python -m tests.nbrefs check          # every marked notebook in notebooks/ and solutions/
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nbformat

from kit.errors import KitError
from kit.io import atomic_write_json
from kit.papermill_run import run_headless

__all__ = ["MARKER", "REFS_DIR", "TAG", "attach", "checked_cells", "main", "record", "reference_file",
           "stale_references"]

MARKER = "# NBVAL_CHECK_OUTPUT"  # nbval's comment marker
TAG = "nbval-check-output"  # nbval's cell tag for the same (kept out of the learner's way)
ROOT = Path(__file__).resolve().parent.parent
REFS_DIR = ROOT / "tests" / "notebook_outputs"
FOLDERS = ("notebooks", "solutions")  # where marked notebooks live (exercises/ are generated from solutions/)


def _is_checked(cell: Any) -> bool:
    return cell.cell_type == "code" and (TAG in cell.get("metadata", {}).get("tags", [])
                                         or any(line.strip() == MARKER for line in cell.source.splitlines()))


def checked_cells(nb: Any) -> list[Any]:
    """The code cells of ``nb`` whose output nbval checks: tagged ``nbval-check-output`` or marked ``# NBVAL_CHECK_OUTPUT``.

    Args:
        nb: an ``nbformat`` notebook.
    """
    return [c for c in nb.cells if _is_checked(c)]


def reference_file(notebook: str | os.PathLike[str], *, refs_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the reference outputs of ``notebook`` are kept.

    Args:
        notebook: the notebook's path.
        refs_dir: the references folder (default ``tests/notebook_outputs``).
    """
    path = Path(notebook).resolve()
    return Path(refs_dir or REFS_DIR) / path.parent.name / f"{path.stem}.json"


def _read(path: Path) -> Any:
    """The notebook at ``path``, or a one-line KitError naming what to pass instead."""
    if not path.is_file():
        raise KitError(f"{path}: no such notebook; pass the path of an .ipynb file")
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, nbformat.reader.NotJSONError) as exc:
        raise KitError(f"{path} is not a notebook ({type(exc).__name__}); pass the path of an .ipynb file") from exc


def _source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _text_only(outputs: Sequence[Any]) -> list[dict[str, Any]]:
    """Streams and plain-text results; images, HTML and widget state are never compared."""
    kept: list[dict[str, Any]] = []
    for out in outputs:
        if out.get("output_type") == "stream":
            kept.append({"output_type": "stream", "name": out["name"], "text": out["text"]})
        elif out.get("output_type") == "execute_result" and "text/plain" in out.get("data", {}):
            kept.append({"output_type": "execute_result", "data": {"text/plain": out["data"]["text/plain"]},
                         "metadata": {}, "execution_count": 1})
    return kept


def record(
    *, notebook: str | os.PathLike[str], refs_dir: str | os.PathLike[str] | None = None, timeout: int = 600,
) -> Path:
    """Execute ``notebook`` headless (scratch registry and runs folder) and store its marked cells' outputs.

    Args:
        notebook: the notebook to execute with its default parameters.
        refs_dir: the references folder (default ``tests/notebook_outputs``).
        timeout: per-cell timeout in seconds.
    """
    path = Path(notebook)
    cells = checked_cells(_read(path))
    if not cells:
        raise KitError(f"{path} has no cell tagged '{TAG}'; tag a cell whose output is stable")
    with tempfile.TemporaryDirectory(prefix="kit-record-") as scratch:
        executed = run_headless(notebook=path, scratch=scratch, timeout=timeout)
    by_id = {c.get("id"): c for c in executed.cells}
    refs = {c.id: {"source_sha": _source_hash(c.source), "outputs": _text_only(by_id[c.id].outputs)} for c in cells}
    return atomic_write_json(reference_file(path, refs_dir=refs_dir),
                             {"notebook": f"{path.resolve().parent.name}/{path.name}", "cells": refs})


def _lookup(notebook: Path, cell: Any, refs_dir: str | os.PathLike[str] | None) -> tuple[list[Any] | None, str]:
    """The reference outputs of one marked cell, or None and the one-line reason it cannot be checked."""
    ref_path = reference_file(notebook, refs_dir=refs_dir)
    fix = f"run `python -m tests.nbrefs record {notebook.parent.name}/{notebook.name}` and review the diff"
    if not ref_path.is_file():
        return None, f"{notebook.name} cell {cell.get('id')}: no reference outputs in {ref_path}; {fix}"
    entry = json.loads(ref_path.read_text()).get("cells", {}).get(cell.get("id"))
    if entry is None:
        return None, f"{notebook.name} cell {cell.get('id')}: not in {ref_path.name}; {fix}"
    if entry["source_sha"] != _source_hash(cell.source):
        return None, f"{notebook.name} cell {cell.get('id')}: source changed since its outputs were recorded; {fix}"
    return [nbformat.from_dict(o) for o in entry["outputs"]], ""


def stale_references(paths: Iterable[str | os.PathLike[str]], *, refs_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Marked cells whose reference is missing or older than their source (empty when all are current).

    Args:
        paths: notebooks to check.
        refs_dir: the references folder (default ``tests/notebook_outputs``).
    """
    problems = []
    for path in map(Path, paths):
        for cell in checked_cells(_read(path)):
            outputs, why = _lookup(path, cell, refs_dir)
            if outputs is None:
                problems.append(why)
    return problems


def attach(items: Iterable[Any], *, refs_dir: str | os.PathLike[str] | None = None) -> int:
    """Give nbval's marked cell items their reference outputs; a cell without a current one runs, then fails.

    Args:
        items: collected pytest items (only nbval cells whose output is checked are touched).
        refs_dir: the references folder (default ``tests/notebook_outputs``).
    """
    attached = 0
    for item in items:
        cell, options = getattr(item, "cell", None), getattr(item, "options", None)
        if cell is None or not options or not options.get("check") or not _is_checked(cell):
            continue
        outputs, why = _lookup(Path(str(item.fspath)), cell, refs_dir)
        if outputs is None:
            item.runtest = _then_fail(item.runtest, why)
            continue
        cell.outputs, cell.execution_count = outputs, 1
        attached += 1
    return attached


def _then_fail(runtest: Any, why: str) -> Any:
    def run() -> None:
        runtest()  # the cell still runs: later cells depend on it
        raise KitError(why)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.nbrefs record|check [PATH...]``: rewrite or check the reference outputs (exit 1: stale, 2: bad input).

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
    """
    ap = argparse.ArgumentParser(prog="python -m tests.nbrefs", description=main.__doc__)
    ap.add_argument("action", choices=["record", "check"])
    ap.add_argument("paths", nargs="*", help="notebooks (default: those in notebooks/ and solutions/ with marked cells)")
    args = ap.parse_args(argv)
    try:
        paths = [Path(p) for p in args.paths] or sorted(
            p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb") if checked_cells(_read(p)))
        if not paths:
            raise KitError(f"no notebook with a cell tagged '{TAG}' in {', '.join(FOLDERS)}; pass paths")
        if args.action == "record":
            for path in paths:
                print(f"wrote {record(notebook=path)}", flush=True)
            return 0
        problems = stale_references(paths)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"reference outputs current for {len(paths)} notebooks" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
