"""Issue 27, the diagnosis at its extremes: exact neighbours, damage outside Linear layers, a gate budget.

The planted norm fixture is built here from the embedded model (one block's ``input_layernorm``
weight scaled), so the damage sits where no Linear or Embedding weight differs.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import torch

from kit.debug.bisect import bisect_fix
from kit.debug.compare import compare_modules, shape_verdict
from kit.debug.faults import weight_modules
from kit.debug.sensitivity import rank_units

NORM_BLOCK = "model.layers.7"

TOKENS = list(range(5, 90)) * 2  # ids inside the tiny model's 96-token vocabulary (fixture `tiny`, conftest)


@pytest.fixture(scope="module")
def norm_damaged(smol):
    """The embedded model with one block's input RMSNorm weight scaled ×3 (every Linear untouched)."""
    cand = copy.deepcopy(smol.model)
    with torch.no_grad():
        dict(cand.named_modules())[f"{NORM_BLOCK}.input_layernorm"].weight.mul_(3.0)
    return dataclasses.replace(smol, model=cand, ref="planted:norm", path=None, sha256=None, quantization=None)


@pytest.fixture(scope="module")
def norm_diagnosis(smol, norm_damaged):
    from kit.debug.diagnose import diagnose

    return diagnose(baseline=smol, candidate=norm_damaged, use_case="code-completion", tokens=64, top=3)


def test_damage_in_a_norm_names_its_block_as_the_only_one_that_differs(norm_diagnosis):
    top = norm_diagnosis.top
    assert top["kind"] == "block" and top["target"] == NORM_BLOCK
    assert "the only block that differs" in top["text"] and "outside them" in top["text"]
    assert "× the median" not in top["text"]
    assert json.loads(json.dumps(norm_diagnosis.to_dict()))["findings"][0]["score"] is None  # no fake ratio


def test_sensitivity_measures_the_damaged_unit_not_untouched_ones(norm_diagnosis):
    sens = norm_diagnosis.sensitivity
    assert [s["unit"] for s in sens] == [NORM_BLOCK]  # the only unit that differs; exact ones are not measured
    assert sens[0]["kl_as_is"] > 0 and sens[0]["recovered_share"] == pytest.approx(1.0, abs=1e-6)


def test_the_printed_table_lists_the_damaged_block_first(norm_diagnosis):
    text = norm_diagnosis.format(rows=3)
    table = text.split("shape: ")[1].splitlines()
    first_row = table[3]
    assert first_row.startswith(NORM_BLOCK + " ") and "differs" in first_row
    assert "1441794029701507383698753847296" not in text and "e+" not in text.split("sensitivity")[0]


BAD = "model.layers.1.mlp.down_proj"


@pytest.fixture(scope="module")
def one_bad(tiny):
    cand = copy.deepcopy(tiny)
    with torch.no_grad():
        weight_modules(cand)[BAD].weight.mul_(2.0)
    return cand, compare_modules(baseline=tiny, candidate=cand, tokens=TOKENS, chunk=64)


def test_one_damaged_module_among_exact_ones_is_the_only_module_that_differs(one_bad):
    _, table = one_bad
    verdict = shape_verdict(table)
    assert verdict["targets"][0] == BAD
    assert "the only module that differs: every other module matches the baseline exactly" in verdict["text"]
    assert "× the median" not in verdict["text"]
    assert table.row(BAD)["vs_median"] is None  # the median is exact: no ratio is invented
    assert json.dumps(table.to_dict())  # JSON-ready, no infinities


def test_the_table_is_ranked_by_severity_then_propagated_error(one_bad):
    _, table = one_bad
    ranked = table.ranked(kind="all")
    assert [r["name"] for r in ranked[:2]] == [BAD, "model.layers.1"]  # the module, then its block
    exact = [r for r in ranked if r["isolated"]["rel_l2"] == 0]
    props = [r["propagated"]["rel_l2"] for r in exact]
    assert props == sorted(props, reverse=True)  # untouched rows: worst downstream damage first, not model order
    assert [u["unit"] for u in rank_units(table)] == ["model.layers.1"]


class _Verdict:
    def __init__(self, passed):
        self.passed, self.decision = passed, "pass" if passed else "fail"


class _Loaded:
    def __init__(self, model):
        self.model = model


@pytest.mark.parametrize(("budget", "runs"), [(1, 1), (2, 2), (3, 3)])
def test_max_gates_is_a_budget_that_counts_every_gate_run(budget, runs, tiny, one_bad):
    cand, table = one_bad
    calls = []
    good = weight_modules(tiny)[BAD].weight

    def gate(candidate):
        calls.append(1)
        return _Verdict(torch.equal(weight_modules(candidate.model)[BAD].weight, good))

    found = bisect_fix(gate=gate, baseline=_Loaded(tiny), candidate=_Loaded(cand), table=table, max_gates=budget)
    assert len(calls) == runs == len(found["steps"]) <= budget
    if budget == 1:
        assert found["ignore"] is None and found["exhausted"] and "--max-gates 2" in found["text"]
    else:  # the list it returns always passed a gate run
        assert found["ignore"] and any(s["decision"] == "pass" and s["ignore"] == found["ignore"] for s in found["steps"])


def test_max_gates_below_one_runs_no_gate(tiny, one_bad):
    from kit.errors import KitError

    cand, table = one_bad
    calls = []
    with pytest.raises(KitError, match="at least 1 gate run"):
        bisect_fix(gate=lambda c: calls.append(1), baseline=_Loaded(tiny), candidate=_Loaded(cand), table=table,
                   max_gates=0)
    assert not calls
