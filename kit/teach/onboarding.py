"""Expected time per notebook for a person: reading (from word counts) + tasks + the measured headless run.

The reading speeds and task times are stated assumptions (constants below); the run time is
measured by executing the notebook headless (:func:`measure_run_seconds`). Nothing is typed in.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import nbformat

from kit.errors import KitError

__all__ = ["CODE_WPM", "MINUTES_PER_QUESTION", "MINUTES_PER_TASK", "PROSE_WPM", "TABLE_BEGIN", "TABLE_END", "estimate",
           "format_markdown", "measure_run_seconds", "notebook_words", "sync_table", "times_table"]

PROSE_WPM = 180  # technical prose, read with care (general prose is read at about 240 words per minute)
CODE_WPM = 90  # code is read at about half the speed of prose
MINUTES_PER_QUESTION = 1.0  # a check of understanding: read the choices or compute from a table
MINUTES_PER_TASK = 6.0  # an exercise region (### BEGIN SOLUTION) or a written answer
TABLE_BEGIN = "<!-- onboarding-table: output of `kit onboarding` -->"  # a doc's generated table sits between these
TABLE_END = "<!-- /onboarding-table -->"
_WORD = re.compile(r"[A-Za-z0-9_]+")
_QUESTION = re.compile(r"check\.question\(")
_TASK = re.compile(r"### BEGIN SOLUTION")
_WRITTEN = re.compile(r"check\.written\(")


def notebook_words(*, path: str | os.PathLike[str]) -> dict[str, int]:
    """Words of prose (markdown) and of code, and the number of questions and tasks, in a notebook.

    Args:
        path: the ``.ipynb`` file.
    """
    nb = nbformat.read(path, as_version=4)
    md = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    code = " ".join(cells)
    tasks = sum(len(_TASK.findall(c)) or len(_WRITTEN.findall(c)) for c in cells)  # a written answer may sit in a region
    return {"prose_words": len(_WORD.findall(md)), "code_words": len(_WORD.findall(code)),
            "questions": len(_QUESTION.findall(code)), "tasks": tasks}


def estimate(*, paths: Sequence[str | os.PathLike[str]], run_seconds: dict[str, float]) -> list[dict[str, Any]]:
    """One row per notebook: reading, task and run minutes, and the total a person should plan for.

    Args:
        paths: the notebooks, in the order a learner takes them.
        run_seconds: measured headless run time per notebook name (stem); missing ones show as unmeasured.
    """
    rows = []
    for path in paths:
        name, w = Path(path).stem, notebook_words(path=path)
        reading = w["prose_words"] / PROSE_WPM + w["code_words"] / CODE_WPM
        tasks = w["questions"] * MINUTES_PER_QUESTION + w["tasks"] * MINUTES_PER_TASK
        run = run_seconds.get(name)
        rows.append({"notebook": name, "prose_words": w["prose_words"], "code_words": w["code_words"],
                     "reading_min": round(reading, 1), "questions": w["questions"], "tasks": w["tasks"],
                     "tasks_min": round(tasks, 1), "run_s": None if run is None else round(run, 1),
                     "total_min": None if run is None else round(reading + tasks + run / 60)})
    return rows


def measure_run_seconds(*, paths: Sequence[str | os.PathLike[str]], timeout: int = 600) -> dict[str, float]:
    """Execute each notebook headless with its default parameters (scratch registry, runs and progress log); time it.

    Args:
        paths: the notebooks, run in order with one shared scratch folder (04 finds what 02 registered).
        timeout: per-cell timeout in seconds.
    """
    from kit.papermill_run import run_headless

    times = {}
    with tempfile.TemporaryDirectory(prefix="kit-onboarding-") as tmp, \
            mock.patch.dict(os.environ, {"KIT_PROGRESS_LOG": str(Path(tmp) / "progress.json")}):
        scratch = Path(tmp)  # the notebooks' artifacts (GBs of models): removed when the timing is done
        for path in paths:
            t0 = time.perf_counter()
            try:
                run_headless(notebook=path, scratch=scratch, timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - papermill's error carries the failing cell; one line here
                raise KitError(f"{path} failed headless ({str(exc).strip().splitlines()[0][:160]}); "
                               f"open it in Jupyter and run it to see the cell") from None
            times[Path(path).stem] = time.perf_counter() - t0
    return times


def format_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The onboarding table as Markdown (the layout docs/onboarding.md and the README use).

    Args:
        rows: :func:`estimate` rows.
    """
    def fmt(v: Any) -> str:
        return "not measured" if v is None else f"{v:g}" if isinstance(v, float) else str(v)

    lines = ["| notebook | prose / code words | reading (min) | questions / tasks | tasks (min) | "
             "headless run (s) | plan for (min) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['notebook']}` | {r['prose_words']} / {r['code_words']} | {fmt(r['reading_min'])} | "
                     f"{r['questions']} / {r['tasks']} | {fmt(r['tasks_min'])} | {fmt(r['run_s'])} | "
                     f"{fmt(r['total_min'])} |")
    total = [r["total_min"] for r in rows]
    if rows and None not in total:
        lines.append(f"| **all** | | | | | | **{sum(total)}** |")
    return "\n".join(lines)


def times_table(*, root: str | os.PathLike[str], times: dict[str, Any]) -> str:
    """The onboarding table of every notebook and solution under ``root``, with the run times' provenance.

    Args:
        root: the repository (holding ``notebooks/`` and ``solutions/``).
        times: ``docs/onboarding-times.json`` (``seconds`` and ``notes``).
    """
    root = Path(root)
    paths = sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "solutions").glob("*.ipynb"))
    table = format_markdown(estimate(paths=paths, run_seconds=times.get("seconds", {})))
    notes = sorted({n for n in times.get("notes", {}).values() if n})
    return table + ("\n\nrun times measured: " + "; ".join(notes) if notes else "")


def sync_table(text: str, *, table: str, where: str = "document") -> str:
    """``text`` with the block between :data:`TABLE_BEGIN` and :data:`TABLE_END` replaced by ``table``.

    Args:
        text: a Markdown document holding the markers once.
        table: :func:`times_table`'s output.
        where: the document's name in the error.
    """
    if text.count(TABLE_BEGIN) != 1 or text.count(TABLE_END) != 1:
        raise KitError(f"{where} needs the markers {TABLE_BEGIN} and {TABLE_END} once each, around the table")
    head, rest = text.split(TABLE_BEGIN)
    return head + TABLE_BEGIN + "\n" + table + "\n" + TABLE_END + rest.split(TABLE_END, 1)[1]
