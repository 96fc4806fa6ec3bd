"""Checks of understanding: every question accepts its right answer, rejects a wrong one, and explains."""

from __future__ import annotations

import json

import pytest

from kit.errors import KitError
from kit.teach import check
from kit.teach.progress import load
from kit.teach.questions import QUESTIONS, WRITTEN, get_question, questions_for


@pytest.fixture(autouse=True)
def _log(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("KIT_PROGRESS_LOG", str(path))
    return path


def _data():
    """What each numeric question's notebook passes, shaped like the real objects (small, synthetic values)."""
    from kit.govern.policy import load_policies

    return {
        "00-q2": {"parameters": 134_515_008},
        "01-q2": {"record": {"accuracy": {"accuracy": 0.6926, "items": 231}}},
        "01-q3": {"row": [0.012, -0.35, 0.2, 0.0]},
        "02-q1": {"outliers": {"outliers": [88, 127, 213]}},
        "03-q2": {"effect": {"rows": [{"method": "rtn", "output_error_held_out": 0.108},
                                      {"method": "gptq", "output_error_held_out": 0.0496}]}},
        "04-q2": {"policies": load_policies()},
        "05-q1": {"rows": [{"model": "chat-assistant", "requests_per_day": 400000},
                           {"model": "batch-summaries", "requests_per_day": 250000}],
                  "cost_per_1k_requests": 0.40, "engineering_cost": 6000.0},
    }


EXPECTED = {  # computed by hand from _data(), to check each question's formula
    "00-q2": 134_515_008 * 2 / 2**20,
    "01-q2": 2 * 100 * (0.6926 * 0.3074 / 231) ** 0.5,
    "01-q3": 0.35 / 7,
    "02-q1": 3.0,
    "03-q2": 0.108 / 0.0496,
    "05-q1": 6000.0 / (250000 * 30 / 1000 * 0.40 * (1 - 0.80)),  # 10 months
}


def _ask(capsys, qid, answer, **data):
    """The verdict line check.question printed: '✓', '✗' or '?' (unanswered), and the whole output."""
    check.question(qid, answer, **data)
    out = capsys.readouterr().out
    mark = "✓" if "✓ right" in out else "✗" if "✗" in out else "?" if "not answered yet" in out else ""
    return mark, out


def _right_and_wrong(q, data):
    if q.choices:
        wrong = next(k for k in q.choices if k != q.answer)
        return q.answer, wrong
    expected = q.expected(**data)
    return expected, expected * 1.5 + 1


@pytest.mark.parametrize("qid", list(QUESTIONS))
def test_every_question_accepts_the_right_answer_and_rejects_a_wrong_one(qid, capsys, _log):
    q, data = get_question(qid), _data().get(qid, {})
    assert set(q.needs) <= set(data), f"test data missing for {qid}"
    right, wrong = _right_and_wrong(q, data)
    mark, out = _ask(capsys, qid, wrong, **data)
    assert mark == "✗" and "Hint:" in out and q.hint[:30] in out.replace("\n  ", " ")
    mark, out = _ask(capsys, qid, right, **data)
    assert mark == "✓" and "Why:" in out
    assert load()["answers"][qid] == {"attempts": 2, "correct": True, "at": load()["answers"][qid]["at"]}


@pytest.mark.parametrize("qid", [q for q in QUESTIONS if q in EXPECTED])
def test_numeric_answers_are_computed_from_the_data_shown(qid, capsys):
    assert get_question(qid).expected(**_data()[qid]) == pytest.approx(EXPECTED[qid])
    assert _ask(capsys, qid, round(EXPECTED[qid], 2), **_data()[qid])[0] == "✓"  # a value read off a rounded table


def test_policy_question_reads_the_policy_file(capsys):
    chat = load_policies_metric()
    assert _ask(capsys, "04-q2", chat, **_data()["04-q2"])[0] == "✓"
    assert _ask(capsys, "04-q2", chat - 1, **_data()["04-q2"])[0] == "✗"


def load_policies_metric():
    from kit.govern.policy import load_policies

    return next(m.min_samples for m in load_policies()["chat-assistant"].metrics if m.metric == "perplexity")


def test_unanswered_prints_the_question_without_raising_or_logging(capsys, _log):
    mark, out = _ask(capsys, "03-q1", None)
    assert mark == "?" and "Group size 128" in out and "A) " in out and '"A", "B" or "C"' in out
    mark, out = _ask(capsys, "01-q2", None, **_data()["01-q2"])
    assert mark == "?" and "to a number" in out
    assert not _log.exists()


def test_multiple_choice_takes_the_letter_case_insensitively(capsys):
    assert _ask(capsys, "00-q1", " b) that every quantized model ...")[0] == "✓"
    mark, out = _ask(capsys, "00-q1", "Z")
    assert mark == "✗" and "not one of A, B, C" in out


def test_a_number_question_rejects_text_and_needs_its_data(capsys):
    assert _ask(capsys, "00-q2", "256 MiB", parameters=1)[0] == "✗"
    with pytest.raises(KitError, match="parameters=..."):
        check.question("00-q2", 1.0)
    with pytest.raises(KitError, match="no question '99-q1'"):
        check.question("99-q1", "A")


def test_once_right_a_question_stays_right():
    check.question("00-q1", "B")
    check.question("00-q1", "A")
    entry = load()["answers"]["00-q1"]
    assert entry["correct"] is True and entry["attempts"] == 2


def test_every_notebook_00_to_05_has_two_or_three_questions_with_distinct_ids():
    notebooks = ["00_setup_check", "01_baseline", "02_int8_default", "03_4bit_for_serving", "04_gate_and_registry",
                 "05_when_not_to_quantize"]
    for nb in notebooks:
        qs = questions_for(nb)
        assert 2 <= len(qs) <= 3, nb
        assert all(q.id.startswith(nb[:2] + "-q") for q in qs)
        for q in qs:
            assert (q.choices is None) != (q.expected is None), q.id
            assert q.choices is None or q.answer in q.choices


def test_written_answer_shows_the_rubric_only_after_an_answer(capsys, _log):
    check.written("ex05-w1", None)
    out = capsys.readouterr().out
    assert "not answered yet" in out and WRITTEN["ex05-w1"].rubric[0] not in out
    check.written("ex05-w1", "too short")
    assert "✗ 2 words" in capsys.readouterr().out and not _log.exists()
    check.written("ex05-w1", " ".join(["word"] * 20))
    out = capsys.readouterr().out
    assert "✓ recorded (20 words)" in out
    assert all(point[:40] in out.replace("\n      ", " ") for point in WRITTEN["ex05-w1"].rubric)
    assert json.loads(_log.read_text())["answers"]["ex05-w1"]["correct"] is True


def test_complete_logs_the_notebook_and_names_the_open_questions(capsys):
    check.question("01-q1", "B")
    assert check.complete("01_baseline") is None  # a notebook cell shows no value
    out = capsys.readouterr().out
    assert "01_baseline completed (run 1); questions right 1/3 (open: 01-q2, 01-q3)" in out
    check.complete("01_baseline")
    assert load()["completed"]["01_baseline"]["runs"] == 2
