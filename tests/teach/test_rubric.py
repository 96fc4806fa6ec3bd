"""The decision-paragraph rubric: numbers must come from the summary, the verdict's uncertainty and the hardware stated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.teach.check import CheckFailed, decision_paragraph
from kit.teach.rubric import grade_decision, quoted_numbers

SUMMARY = json.loads((Path(__file__).resolve().parents[2] / "tests" / "report" / "expected_summary.json").read_text())
GOOD = ("We recommend bnb-int8 for the chat assistant. It passed every tolerance; the tightest, top-1 agreement, "
        "kept a margin of 0.05 of the 0.12 allowed, so the evidence clears each limit. It cuts weight memory by 68 % "
        "(538 MB to 170 MB). On the test cpu it decodes at 20 tokens/s against the baseline's 40, so what it saves "
        "there is memory, not serving cost.")


def test_a_paragraph_quoting_the_summary_meets_the_rubric(capsys):
    assert all(ok for ok, _ in grade_decision(GOOD, summary=SUMMARY).values())
    assert decision_paragraph(GOOD, summary=SUMMARY) and "meets the rubric" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "point", "message"), [
    (("68 %", "57 %"), "numbers", "57"),  # a number the summary does not hold
    (("margin of 0.05 of the 0.12 allowed, so the evidence clears each limit", "good results"), "uncertainty",
     "how sure"),
    (("On the test cpu it", "It"), "hardware", "test cpu"),
])
def test_each_missed_point_is_named(change, point, message):
    text = GOOD.replace(*change)
    graded = grade_decision(text, summary=SUMMARY)
    assert not graded[point][0] and message in graded[point][1]
    assert all(ok for k, (ok, _) in graded.items() if k != point)
    with pytest.raises(CheckFailed, match=message):
        decision_paragraph(text, summary=SUMMARY)


def test_numbers_in_names_are_not_quotes_and_short_answers_are_refused():
    assert quoted_numbers("int8 and bnb-nf4 on an H100 at 1,250 tokens, −3.5 %") == [1250.0, -3.5]
    with pytest.raises(CheckFailed, match="at least 30 words"):
        decision_paragraph("ship it", summary=SUMMARY)


def test_the_example_summary_is_bundled_and_other_files_are_refused(tmp_path):
    from kit.errors import KitError
    from kit.teach.rubric import load_summary

    assert load_summary("data/examples/pilot_summary.json") == SUMMARY
    (tmp_path / "s.json").write_text('{"kind": "adoption"}')
    with pytest.raises(KitError, match="not a pilot report summary"):
        load_summary(str(tmp_path / "s.json"))
    with pytest.raises(KitError, match="cannot read"):
        load_summary(str(tmp_path / "missing.json"))
