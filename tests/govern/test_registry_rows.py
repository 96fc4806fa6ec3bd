"""Registry rows: a validation's decision (old verdicts without one read from ``passed``), an entry's recipe source."""

import json

import pytest

from kit.govern.registry_rows import Entry, Validation


def _validation(**verdict):
    return Validation(id="v", entry_id="e", created_at="t", kind="revalidate", passed=bool(verdict.pop("passed")),
                      verdict=verdict, stack={})


@pytest.mark.parametrize(("verdict", "decision", "outcome"), [
    ({"passed": True}, "pass", "passed its latest validation"),  # written before verdicts stated a decision
    ({"passed": False}, "fail", "failed its latest validation"),
    ({"passed": False, "decision": "inconclusive"}, "inconclusive",
     "was inconclusive at its latest validation (more data would decide)"),
    ({"passed": False, "decision": "fail"}, "fail", "failed its latest validation"),
])
def test_a_validations_decision_and_its_sentence(verdict, decision, outcome):
    v = _validation(**verdict)
    assert (v.decision, v.outcome()) == (decision, outcome)


def _entry(quant_config):
    return Entry(id="e", created_at="t", model_ref="runs/x", model_sha256=None, baseline_ref="b", baseline_sha256=None,
                 method="rtn", bits=4, use_case="chat", owner="ada", volume_per_day=None, reason=None, passed=True,
                 quant_config=quant_config, evals={}, verdict={}, stack={}, aliases=("champion",))


def test_an_entry_names_the_entry_it_replayed_and_serialises_to_json():
    assert _entry({"template_of": "abc123"}).template_of == "abc123"
    assert _entry({"template_of": 7}).template_of is None  # a damaged log names no entry
    assert _entry(None).template_of is None
    data = _entry({"template_of": "abc123"}).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["aliases"] == ["champion"] and data["template_of"] == "abc123" and data["method"] == "rtn"
