"""The learner's progress log and ``kit progress``: empty from a fresh clone, atomic writes, a clear next step."""

from __future__ import annotations

import json

import pytest

from kit.cli.main import main
from kit.errors import KitError
from kit.teach.progress import SCHEMA, curriculum, load, log_path, mark_answer, mark_complete, summary


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "progress.json"
    monkeypatch.setenv("KIT_PROGRESS_LOG", str(path))
    return path


def test_log_path_honours_the_environment_and_defaults_to_the_cache(log, monkeypatch, tmp_path):
    assert log_path() == log
    monkeypatch.delenv("KIT_PROGRESS_LOG")
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    assert log_path() == tmp_path / "cache" / "progress.json"


def test_a_missing_log_reads_as_empty_and_writing_creates_it_atomically(log):
    assert load() == {"schema": SCHEMA, "completed": {}, "answers": {}, "predictions": {}}
    mark_answer(qid="00-q1", correct=False)
    mark_complete(item="00_setup_check")
    data = json.loads(log.read_text())
    assert data["answers"]["00-q1"]["attempts"] == 1 and data["answers"]["00-q1"]["correct"] is False
    assert data["completed"]["00_setup_check"]["runs"] == 1
    assert [p.name for p in log.parent.iterdir()] == ["progress.json"]  # no temp file left behind


def test_a_corrupt_or_foreign_log_is_an_error_naming_the_fix(log):
    log.parent.mkdir(parents=True)
    log.write_text("{not json")
    with pytest.raises(KitError, match="move it aside"):
        load()
    log.write_text('{"schema": "something-else"}')
    with pytest.raises(KitError, match="KIT_PROGRESS_LOG"):
        load()


def test_curriculum_lists_the_repository_notebooks_then_the_exercises():
    items = curriculum()
    names = [n for _, n in items]
    assert names[0] == "00_setup_check" and ("exercise", "ex01_read_the_record") in items
    assert names.index("05_when_not_to_quantize") < names.index("ex01_read_the_record")


def test_summary_counts_right_answers_per_notebook(log):
    mark_answer(qid="01-q1", correct=True)
    mark_answer(qid="01-q2", correct=False)
    mark_complete(item="01_baseline")
    mark_complete(item="my_own_notebook")
    rows = {r["name"]: r for r in summary(log=load(), items=[("notebook", "00_setup_check"), ("notebook", "01_baseline")])}
    assert rows["01_baseline"]["questions"] == "1/3" and rows["01_baseline"]["completed"] != "-"
    assert rows["00_setup_check"] == {"kind": "notebook", "name": "00_setup_check", "completed": "-", "questions": "0/2"}
    assert rows["my_own_notebook"]["kind"] == "other"


def test_kit_progress_from_a_fresh_clone_says_where_to_start(log, capsys):
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nothing completed yet; start with 00_setup_check") and str(log) in out
    assert not log.exists()


def test_kit_progress_lists_completed_items_and_the_next_one(log, capsys):
    mark_complete(item="00_setup_check")
    mark_answer(qid="00-q1", correct=True)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "00_setup_check" in out and "1/2" in out and "next: 01_baseline" in out
    assert main(["progress", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["items"][0]["name"] == "00_setup_check" and data["items"][0]["completed"] != "-"


def test_kit_progress_with_a_corrupt_log_is_one_error_line(log, capsys):
    log.parent.mkdir(parents=True)
    log.write_text("[]")
    assert main(["progress"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_prediction_is_kept_until_replaced(log):
    from kit.teach.progress import mark_prediction

    mark_prediction(qid="02-q3", answer="A")
    mark_prediction(qid="02-q3", answer="B")
    assert load()["predictions"]["02-q3"]["answer"] == "B"
