"""Expected time per notebook: words at the stated reading speeds + tasks + the measured run time."""

from __future__ import annotations

import json

import nbformat
import pytest

from kit.cli.main import main
from kit.teach.onboarding import (CODE_WPM, MINUTES_PER_QUESTION, MINUTES_PER_TASK, PROSE_WPM, estimate,
                                  format_markdown, notebook_words)


def _nb(path, markdown_words, code):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(" ".join(["word"] * markdown_words)), params,
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


def test_words_questions_and_tasks_are_counted(tmp_path):
    path = _nb(tmp_path / "a.ipynb", 360, 'q1 = None\ncheck.question("01-q1", q1)\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION')
    w = notebook_words(path=path)
    assert w["prose_words"] == 360 and w["questions"] == 1 and w["tasks"] == 1
    assert w["code_words"] == len("q1 None check question 01 q1 q1 BEGIN SOLUTION y 2 END SOLUTION".split())


def test_estimate_adds_reading_tasks_and_the_measured_run(tmp_path):
    path = _nb(tmp_path / "01_x.ipynb", PROSE_WPM * 2, "check.question('a', None)")
    code_words = notebook_words(path=path)["code_words"]
    [row] = estimate(paths=[path], run_seconds={"01_x": 90.0})
    reading = 2 + code_words / CODE_WPM
    assert row["reading_min"] == pytest.approx(reading, abs=0.05)
    assert row["tasks_min"] == MINUTES_PER_QUESTION and row["run_s"] == 90.0
    assert row["total_min"] == round(reading + MINUTES_PER_QUESTION + 1.5)
    [row] = estimate(paths=[path], run_seconds={})
    assert row["run_s"] is None and row["total_min"] is None
    assert "not measured" in format_markdown([row]) and "**all**" not in format_markdown([row])


def test_markdown_table_sums_the_totals(tmp_path):
    a = _nb(tmp_path / "a.ipynb", 10, "### BEGIN SOLUTION\n### END SOLUTION")
    b = _nb(tmp_path / "b.ipynb", 10, "")
    rows = estimate(paths=[a, b], run_seconds={"a": 60.0, "b": 60.0})
    assert rows[0]["tasks_min"] == MINUTES_PER_TASK
    assert f"**{rows[0]['total_min'] + rows[1]['total_min']}**" in format_markdown(rows)


def test_kit_onboarding_reads_saved_times_and_rejects_a_missing_path(tmp_path, capsys):
    path = _nb(tmp_path / "a.ipynb", 100, "")
    times = tmp_path / "times.json"
    times.write_text(json.dumps({"seconds": {"a": 30.0}, "notes": {"a": "quiet laptop"}}))
    assert main(["onboarding", str(path), "--times", str(times)]) == 0
    out = capsys.readouterr().out
    assert "| `a` |" in out and "| 30 |" in out and "quiet laptop" in out
    assert main(["onboarding", str(tmp_path / "missing.ipynb")]) == 2
    assert capsys.readouterr().err.startswith("error: no notebook")
