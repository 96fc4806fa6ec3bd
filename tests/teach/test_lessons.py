"""Lessons from the kit's own records: the bench pilot's measured outcome, the judgment table, a real inconclusive line."""

from __future__ import annotations

import json

import pytest

from kit.errors import KitError
from kit.teach.lessons import judge, measured_outcome, read_pilot

SCENARIOS = [{"model": "busy", "requests_per_day": 400000, "criticality": "medium", "gate_passed": True},
             {"model": "failed", "requests_per_day": 400000, "criticality": "low", "gate_passed": False}]


def test_the_measured_outcome_comes_from_the_pilot_records():
    pilot = read_pilot()
    out = measured_outcome(pilot=pilot, method="bnb-int8")
    speed = {r["method"]: r["decode_tok_s"] for r in pilot["table"]}
    assert out["cost_ratio"] == pytest.approx(speed["baseline"] / speed["bnb-int8"])
    cand = next(c for c in pilot["candidates"] if c["method"] == "bnb-int8")
    assert out["gate"] == cand["verdict"]["decision"] and out["use_case"] == pilot["use_case"]
    assert out["hardware"] and "unknown" not in out["hardware"]
    with pytest.raises(KitError, match="no rtn candidate"):
        measured_outcome(pilot=pilot, method="rtn")


def test_a_file_that_is_not_a_pilot_is_refused(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"kind": "pilot"}))
    with pytest.raises(KitError, match="not a pilot result"):
        read_pilot(str(tmp_path / "p.json"))
    with pytest.raises(KitError, match="cannot read the pilot"):
        read_pilot(str(tmp_path / "missing.json"))


def test_no_saving_means_skip_whatever_the_volume_and_a_failed_gate_always_skips():
    costly = judge(SCENARIOS, cost_ratio=3.0, cost_per_1k_requests=0.4, engineering_cost=6000, max_payback_months=6)
    assert [r["decision"] for r in costly] == ["skip", "skip"]
    assert costly[0]["savings_per_month"] < 0 and "costs more than it saves" in costly[0]["why"]
    assert costly[1]["why"].startswith("no candidate passed the gate")
    cheap = judge(SCENARIOS, cost_ratio=0.55, cost_per_1k_requests=0.4, engineering_cost=6000, max_payback_months=6)
    assert [r["decision"] for r in cheap] == ["quantize", "skip"] and cheap[0]["cost_ratio"] == 0.55


def test_notebook_05_reads_its_cost_ratio_and_gate_and_labels_every_invented_number():
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "05_when_not_to_quantize.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    for line in "".join(params["source"]).splitlines():
        if re.match(r"\w+ = [\d.]+", line) and not line.startswith("max_payback_months"):
            assert "scenario" in line, f"an invented number must be labelled a scenario: {line}"
    joined = "\n".join(code)
    assert "measured_outcome(" in joined and 'cost_ratio=measured["cost_ratio"]' in joined
    for literal in re.finditer(r'"gate_passed": (True|False),\s*"source": "([^"]+)"', joined):
        assert literal.group(2).startswith("scenario"), literal.group(0)
    assert len(re.findall(r'"gate_passed": (?:True|False)', joined)) == 2  # the third is the pilot's verdict
