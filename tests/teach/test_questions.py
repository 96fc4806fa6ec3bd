"""Checks of understanding: every question accepts its right answer, explains each wrong one, and the bank is fair."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kit.errors import KitError
from kit.teach import check
from kit.teach.lessons import describe_line, inconclusive_line
from kit.teach.progress import load
from kit.teach.questions import QUESTIONS, WRITTEN, get_question, questions_for

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(autouse=True)
def _log(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("KIT_PROGRESS_LOG", str(path))
    return path


def _verdict(*lines):
    keys = ("metric", "direction", "limit_kind", "baseline", "limit", "margin")
    return {"metrics": [dict(zip(keys, line, strict=True)) for line in lines]}


def _data():
    """What each computed question's notebook passes, shaped like the real objects (small, synthetic values)."""
    summary = json.loads((ROOT / "tests" / "report" / "expected_summary.json").read_text())
    return {
        "00-q2": {"parameters": 134_515_008},
        "01-q2": {"record": {"accuracy": {"accuracy": 0.6926, "items": 231}}},
        "01-q3": {"row": [0.012, -0.35, 0.2, 0.0]},
        "02-q1": {"outliers": {"outliers": [88, 127, 213]}},
        "02-q3": {"table": [{"method": "baseline", "decode_tok_s": 30.0}, {"method": "bnb-int8", "decode_tok_s": 10.0}]},
        "03-q2": {"effect": {"rows": [{"method": "rtn", "output_error_held_out": 0.108},
                                      {"method": "gptq", "output_error_held_out": 0.0496}]}},
        "04-q2": {"verdict": _verdict(("perplexity", "lower", "relative", 12.0, 0.10, -0.2))},
        "04-q5": {"line": {"samples": 430, "needed": 1223}},
        "05-q1": {"rows": [{"model": "chat-assistant", "requests_per_day": 400000},
                           {"model": "batch-summaries", "requests_per_day": 250000}],
                  "cost_per_1k_requests": 0.40, "engineering_cost": 6000.0},
        "05-q3": {"measured": {"baseline_decode_tok_s": 13.8, "decode_tok_s": 4.5}},
        "06-q2": {"summary": summary},
        "07-q2": {"dashboard": {"coverage": {"total_volume": 1000, "covered_volume": 500, "rows": [
            {"requests_per_day": 500, "covered": True}, {"requests_per_day": 300, "covered": False},
            {"requests_per_day": 200, "covered": False}]}}},
        "08-q2": {"upgrade": {"results": [{"passed": True, "error": None}, {"passed": False, "error": None},
                                          {"passed": None, "error": "artifact missing"}]}},
        "09-q2": {"verdict": _verdict(("kl_mean", "lower", "absolute", 0.0, 0.05, -0.15),
                                      ("top1_agreement", "higher", "absolute", 1.0, 0.10, -0.05),
                                      ("perplexity", "lower", "relative", 12.0, 0.10, 0.02))},
    }


EXPECTED = {  # computed by hand from _data(), to check each question's formula
    "00-q2": 134_515_008 * 2 / 2**20,
    "01-q2": 2 * 100 * (0.6926 * 0.3074 / 231) ** 0.5,
    "01-q3": 0.35 / 7,
    "02-q1": 3.0,
    "03-q2": 0.108 / 0.0496,
    "04-q2": 13.2,
    "04-q5": 1223 / 430,
    "05-q1": 6000.0 / (250000 * 30 / 1000 * 0.40 * (1 - 0.80)),  # 10 months
    "05-q3": 13.8 / 4.5,
    "06-q2": 1 - 170000000 / 538060288,
    "07-q2": 0.8,
    "08-q2": 2.0,
    "09-q2": 3.0,
}


def _ask(capsys, qid, answer, **data):
    """The verdict line check.question printed: '✓', '✗' or '?' (unanswered), and the whole output."""
    check.question(qid, answer, **data)
    out = capsys.readouterr().out
    mark = "✓" if "✓ right" in out else "✗" if "✗" in out else "?" if "not answered yet" in out or "measured:" in out else ""
    return mark, out


def _flat(out):
    return re.sub(r"\s+", " ", out)


@pytest.mark.parametrize("qid", list(QUESTIONS))
def test_every_question_accepts_the_right_answer_and_explains_each_wrong_one(qid, capsys, _log):
    q, data = get_question(qid), _data().get(qid, {})
    assert set(q.needs) <= set(data), f"test data missing for {qid}"
    right = q.right(data)
    if q.choices:
        for letter in (k for k in q.choices if k != right):
            mark, out = _ask(capsys, qid, letter, **data)
            assert mark == "✗" and q.choices[letter].why[:40] in _flat(out)
    else:
        mark, out = _ask(capsys, qid, right * 1.5 + 1, **data)
        assert mark == "✗" and q.method[:40] in _flat(out)
        shown = [f"{right:{f}}" for f in (".4g", ".3g", ".2f")]
        assert not any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", out.replace(qid, "")) for v in shown), "reveals the value"
    mark, out = _ask(capsys, qid, right, **data)
    assert mark == "✓" and "Why:" in out
    assert load()["answers"][qid]["correct"] is True


@pytest.mark.parametrize("qid", [q for q in QUESTIONS if q in EXPECTED])
def test_numeric_answers_are_computed_from_the_data_shown(qid, capsys):
    assert get_question(qid).expected(**_data()[qid]) == pytest.approx(EXPECTED[qid])
    assert _ask(capsys, qid, round(EXPECTED[qid], 2), **_data()[qid])[0] == "✓"  # a value read off a rounded table


def test_the_bank_cannot_be_passed_without_reading():
    fixed = [q for q in QUESTIONS.values() if q.choices and q.answer]
    keys = Counter(q.answer for q in fixed)
    letters = sorted({k for q in fixed for k in q.choices})
    share = len(fixed) / len(letters)
    assert all(abs(keys[k] - share) <= 1 for k in letters), keys
    longest = [q.id for q in QUESTIONS.values() if q.choices and q.answer
               and len(q.choices[q.answer].text) == max(len(c.text) for c in q.choices.values())]
    assert len(longest) <= 0.4 * len(fixed), longest
    for q in QUESTIONS.values():
        assert (q.choices is None) != (q.expected is None), q.id
        if q.choices:
            assert (q.answer is None) != (q.key is None), q.id
            assert q.answer is None or q.answer in q.choices
            whys = [c.why for c in q.choices.values()]
            assert all(len(w) > 20 for w in whys) and len(set(whys)) == len(whys), q.id
        else:
            assert len(q.method) > 20, q.id


def test_02_q3_is_keyed_by_the_measured_decode_speeds():
    q = get_question("02-q3")
    speeds = lambda int8: {"table": [{"method": "baseline", "decode_tok_s": 30.0},  # noqa: E731
                                     {"method": "bnb-int8", "decode_tok_s": int8}]}
    assert [q.right(speeds(v)) for v in (10.0, 29.0, 45.0)] == ["A", "B", "C"]


def test_a_prediction_is_committed_before_the_run_and_scored_after_it(capsys, _log):
    check.predict("02-q3", None)
    assert "predict now" in capsys.readouterr().out and not _log.exists()
    check.predict("02-q3", "c")
    assert "prediction C committed" in capsys.readouterr().out
    mark, out = _ask(capsys, "02-q3", "A", **_data()["02-q3"])  # a later change of mind does not count
    assert mark == "✗" and "your prediction" in out and "Measured here: A)" in out
    with pytest.raises(KitError, match="not a predict-then-run"):
        check.predict("02-q2", "B")


def test_unanswered_prediction_shows_the_measurement(capsys):
    mark, out = _ask(capsys, "02-q3", None, **_data()["02-q3"])
    assert mark == "?" and "measured: A)" in out


def test_the_inconclusive_question_reads_a_real_bench_line():
    line = inconclusive_line()
    assert line["status"] == "inconclusive" and line["needed"] > line["samples"] > 0
    text = describe_line(line)
    assert "inconclusive" in text and str(line["needed"]) in text
    assert get_question("04-q5").expected(line=line) == pytest.approx(line["needed"] / line["samples"])


def test_unanswered_prints_the_question_without_raising_or_logging(capsys, _log):
    mark, out = _ask(capsys, "03-q1", None)
    assert mark == "?" and "Group size 128" in out and "A) " in out and '"A", "B" or "C"' in out
    mark, out = _ask(capsys, "01-q2", None, **_data()["01-q2"])
    assert mark == "?" and "to a number" in out
    assert not _log.exists()


def test_multiple_choice_takes_the_letter_case_insensitively(capsys):
    assert _ask(capsys, "00-q1", " c) that every comparison ...")[0] == "✓"
    mark, out = _ask(capsys, "00-q1", "Z")
    assert mark == "✗" and "not one of A, B, C" in out


def test_a_number_question_rejects_text_and_needs_its_data(capsys):
    assert _ask(capsys, "00-q2", "256 MiB", parameters=1)[0] == "✗"
    with pytest.raises(KitError, match="parameters=..."):
        check.question("00-q2", 1.0)
    with pytest.raises(KitError, match="no question '99-q1'"):
        check.question("99-q1", "A")


def test_once_right_a_question_stays_right():
    check.question("00-q1", "C")
    check.question("00-q1", "A")
    entry = load()["answers"]["00-q1"]
    assert entry["correct"] is True and entry["attempts"] == 2


def _cells(path):
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"]], nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_goal_two_checks_and_a_skills_summary(path):
    cells, nb = _cells(path)
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "**Goal:**" in markdown and "**You should now be able to:**" in markdown, path.stem
    asked = re.findall(r'check\.(?:question|predict)\("(\d\d-q\d)"', "\n".join(cells))
    bank = [q.id for q in questions_for(path.stem)]
    assert len(bank) >= 2 and set(asked) == set(bank), (path.stem, asked, bank)


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
    check.question("01-q1", "A")
    assert check.complete("01_baseline") is None  # a notebook cell shows no value
    out = capsys.readouterr().out
    assert "01_baseline completed (run 1); questions right 1/3 (open: 01-q2, 01-q3)" in out
    check.complete("01_baseline")
    assert load()["completed"]["01_baseline"]["runs"] == 2
