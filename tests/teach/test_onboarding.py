"""Expected time per notebook: words at the stated reading speeds + tasks + the measured run time."""

from __future__ import annotations

import json

import nbformat
import pytest

from kit.cli.main import main
from kit.teach.onboarding import (
    CODE_WPM,
    MINUTES_PER_QUESTION,
    MINUTES_PER_TASK,
    PROSE_WPM,
    estimate,
    format_markdown,
    notebook_words,
)


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


def test_kit_onboarding_with_a_broken_times_file_is_one_error_line(tmp_path, capsys):
    path = _nb(tmp_path / "a.ipynb", 10, "")
    times = tmp_path / "times.json"
    times.write_text("{oops")
    assert main(["onboarding", str(path), "--times", str(times)]) == 2
    assert "re-measure with `kit onboarding --measure`" in capsys.readouterr().err


@pytest.mark.slow
def test_measure_runs_the_notebook_headless_with_a_scratch_progress_log(tmp_path, capsys, monkeypatch):
    mine = tmp_path / "mine.json"
    monkeypatch.setenv("KIT_PROGRESS_LOG", str(mine))
    path = _nb(tmp_path / "b.ipynb", 10, f"import os\nassert os.environ['KIT_PROGRESS_LOG'] != {str(mine)!r}")
    times = tmp_path / "times.json"
    times.write_text(json.dumps({"seconds": {"other": 5.0}, "notes": {"other": "earlier"}}))
    assert main(["onboarding", str(path), "--measure", "--times", str(times), "--note", "test run"]) == 0
    saved = json.loads(times.read_text())
    assert saved["seconds"]["other"] == 5.0 and saved["seconds"]["b"] > 0 and saved["notes"]["b"] == "test run"
    assert not mine.exists()
    failing = _nb(tmp_path / "c.ipynb", 10, "raise ValueError('boom')")
    assert main(["onboarding", str(failing), "--measure", "--times", str(times)]) == 2
    assert "c.ipynb failed headless" in capsys.readouterr().err


def test_a_written_answer_counts_once_inside_or_outside_a_solution_region(tmp_path):
    inside = _nb(tmp_path / "i.ipynb", 1, '### BEGIN SOLUTION\nt = "..."\n### END SOLUTION\ncheck.written("ex05-w1", t)')
    outside = _nb(tmp_path / "o.ipynb", 1, 't = None\ncheck.written("ex05-w1", t)')
    assert notebook_words(path=inside)["tasks"] == 1 and notebook_words(path=outside)["tasks"] == 1


def test_readme_guided_path_minutes_are_the_onboarding_estimate():
    """The README's "plan for" column is computed (reading + tasks + measured run), never typed: it follows the notebooks."""
    import json
    import re
    from pathlib import Path

    from kit.teach.onboarding import estimate

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = {m.group(1): int(m.group(2))
             for m in re.finditer(r"^\| `(\d\d_\w+)` \|.*\| (\d+) min \|$", readme, re.M)}
    assert len(shown) == len(list((root / "notebooks").glob("*.ipynb"))), "every notebook needs its minutes"
    times = json.loads((root / "docs" / "onboarding-times.json").read_text())["seconds"]
    rows = estimate(paths=sorted((root / "notebooks").glob("*.ipynb")), run_seconds=times)
    assert shown == {r["notebook"]: r["total_min"] for r in rows}, "update the README with `kit onboarding`"


def test_the_docs_hold_the_one_generated_table_of_notebook_times():
    """docs/onboarding.md and docs/notebooks.md carry the same generated table (scripts/onboarding_tables.py)."""
    import json
    from pathlib import Path

    from kit.teach.onboarding import TABLE_BEGIN, TABLE_END, times_table

    root = Path(__file__).resolve().parents[2]
    times = json.loads((root / "docs" / "onboarding-times.json").read_text())
    table = times_table(root=root, times=times)
    assert all(f"`{p.stem}`" in table for p in [*(root / "notebooks").glob("*.ipynb"), *(root / "solutions").glob("*.ipynb")])
    for name in ("onboarding.md", "notebooks.md"):
        text = (root / "docs" / name).read_text(encoding="utf-8")
        block = text.split(TABLE_BEGIN)[1].split(TABLE_END)[0].strip()
        assert block == table, f"docs/{name} drifted: run `python scripts/onboarding_tables.py`"


def test_sync_table_replaces_only_the_block_and_needs_the_markers():
    from kit.errors import KitError
    from kit.teach.onboarding import TABLE_BEGIN, TABLE_END, sync_table

    text = f"intro\n{TABLE_BEGIN}\nold\n{TABLE_END}\noutro\n"
    assert sync_table(text, table="new") == f"intro\n{TABLE_BEGIN}\nnew\n{TABLE_END}\noutro\n"
    with pytest.raises(KitError, match="needs the markers"):
        sync_table("no markers", table="new")
