"""The gate's statistics: the look plan's critical values, Student-t window bounds, partial records and pairing."""

import math
import random

import pytest

from kit.errors import KitError
from kit.eval.ordering import boundaries, extend_record, merge_scores, permutation, segments
from kit.eval.stats import linearized_bounds, t_for, z_for
from kit.govern.gate import gate
from kit.govern.policy import MetricLimit, UseCasePolicy
from kit.govern.sequential import critical_values, looks_of, nominal_levels, spent


def test_spending_reaches_alpha_at_the_last_look_and_little_early():
    assert spent(1.0, 0.05) == pytest.approx(0.05)
    assert spent(0.25, 0.05) < 0.0002 < spent(0.5, 0.05) < spent(0.75, 0.05) < 0.05


def test_critical_values_match_published_obrien_fleming_spending_boundaries():
    # Lan–DeMets O'Brien–Fleming spending, one-sided 0.025, looks at 1/2 and 1 (e.g. gsDesign / rpact): 2.963, 1.969
    assert critical_values((0.5, 1.0), 0.025) == pytest.approx((2.963, 1.969), abs=2e-3)
    assert critical_values((1.0,), 0.05) == pytest.approx((z_for(0.05),))
    levels = nominal_levels([0.25, 0.5, 0.75, 1.0], 0.05)
    assert levels == sorted(levels) and levels[-1] < 0.05 and levels[0] < 1e-3


def test_student_t_quantiles():
    assert t_for(0.05, 7) == pytest.approx(1.895, abs=1e-3)
    assert t_for(0.025, 1) == pytest.approx(12.706, abs=1e-2)
    assert t_for(0.05, 1000) == pytest.approx(z_for(0.05), abs=2e-3)


def test_linearized_bounds_widen_with_spread_and_need_two_windows():
    assert linearized_bounds(estimate=1.0, influence=[0.3], alpha=0.05) is None
    narrow = linearized_bounds(estimate=1.0, influence=[0.1, -0.1, 0.1, -0.1], alpha=0.05)
    wide = linearized_bounds(estimate=1.0, influence=[0.5, -0.5, 0.5, -0.5], alpha=0.05)
    assert wide[0] < narrow[0] < 1.0 < narrow[1] < wide[1]


def test_order_is_seeded_and_looks_fall_on_batches():
    assert permutation(20, seed=0) == permutation(20, seed=0) != permutation(20, seed=1)
    assert sorted(permutation(20, seed=3)) == list(range(20))
    assert boundaries(49, looks=(0.25, 0.5, 0.75, 1.0), unit=4) == [16, 28, 40, 49]
    assert boundaries(430, looks=(0.25, 0.5, 0.75, 1.0), unit=8) == [112, 216, 328, 430]
    assert boundaries(2, looks=(0.25, 0.5, 0.75, 1.0), unit=4) == [2]  # a tiny set: one look
    segs = segments(49, seed=0, looks=(0.25, 0.5, 0.75, 1.0), unit=4)
    assert [len(s) for s in segs] == [16, 12, 12, 9] and sorted(i for s in segs for i in s) == list(range(49))
    assert segments(5, seed=None, looks=(0.5, 1.0), unit=1) == [[0, 1, 2, 3, 4]]


def test_merged_segments_equal_one_pass():
    parts = [{"accuracy": 0.5, "accuracy_sum": 0.5, "items": 2, "correct": [1, 0], "correct_sum": [0, 1],
              "ids": ["a", "b"], "primary": "x"},
             {"accuracy": 1.0, "accuracy_sum": 0.0, "items": 1, "correct": [1], "correct_sum": [0], "ids": ["c"],
              "primary": "x"}]
    merged = merge_scores("multiple_choice", parts)
    assert merged["accuracy"] == pytest.approx(2 / 3) and merged["ids"] == ["a", "b", "c"] and merged["items"] == 3
    text = [{"nll_per_token": 2.0, "tokens_scored": 10, "windows": 1, "per_window": {"nll": [20.0], "tokens": [10]},
             "agreement": {"top1": 0.9, "kl_mean": 0.1, "tokens": 10, "per_window": {"top1": [9], "kl": [1.0]}}},
            {"nll_per_token": 3.0, "tokens_scored": 30, "windows": 1, "per_window": {"nll": [90.0], "tokens": [30]},
             "agreement": {"top1": 0.5, "kl_mean": 0.2, "tokens": 30, "per_window": {"top1": [15], "kl": [6.0]}}}]
    m = merge_scores("text", text)
    assert m["perplexity"] == pytest.approx(math.exp(110 / 40)) and m["agreement"]["top1"] == pytest.approx(24 / 40)
    assert m["agreement"]["kl_mean"] == pytest.approx(7 / 40) and m["per_window"]["tokens"] == [10, 30]


def _mc(sha, correct, index, total, cuts, sequential=None):
    ids = [f"q{i}" for i in index]
    order = {"seed": 0, "boundaries": cuts, "total": total, "scored": len(index), "index": list(index)}
    if sequential is not None:
        order["sequential"] = sequential
    return {"schema": "kit.eval/1", "model": {"ref": sha, "sha256": sha * 64, "baseline": {"sha256": "b" * 64}},
            "eval_set": {"name": "everyday-mc", "kind": "multiple_choice", "sha256": "s" * 64},
            "protocol": {"kind": "multiple_choice"}, "environment": {}, "seconds": {"scoring": 1.0},
            "accuracy": {"accuracy": sum(correct) / len(correct), "items": len(correct), "correct": list(correct),
                         "ids": ids}, "order": order}


LIMIT = MetricLimit(metric="accuracy", eval_set="everyday-mc", direction="higher", limit_kind="absolute", limit=0.05,
                    min_samples=300)
POLICY = UseCasePolicy(name="t", description="t", default_method="bnb-int8", eval_sets=("everyday-mc",),
                       metrics=(LIMIT,))


def test_a_partial_sequential_record_gates_against_a_full_baseline_by_id():
    rng = random.Random(0)
    n, cuts = 400, [100, 200, 300, 400]
    order = permutation(n, seed=0)
    truth = [rng.random() < 0.6 for _ in range(n)]  # baseline right/wrong per natural item
    base = _mc("b", [int(truth[i]) for i in order], order, n, cuts)
    # the candidate lost 40 % of what the baseline got right: a clear fail, visible at the first look
    cand_all = [int(truth[i] and rng.random() > 0.4) for i in order]
    cand = _mc("c", cand_all[:100], order[:100], n, cuts, sequential=True)
    line = gate(baseline=base, candidate=cand, policy=POLICY).metrics[0]
    assert line.status == "fail" and line.look == 1 and line.units == [100, 400] and line.samples == 100
    assert "look 1/4" in line.note
    # a shuffled full baseline (another order of the same items) pairs by id just the same
    shuffled = list(range(n))
    random.Random(5).shuffle(shuffled)
    base2 = _mc("b", [int(truth[i]) for i in shuffled], shuffled, n, cuts)
    assert gate(baseline=base2, candidate=cand, policy=POLICY).metrics[0].status == "fail"
    with pytest.raises(KitError, match="lacks"):
        gate(baseline=_mc("b", [1] * 50, order[:50], n, cuts), candidate=cand, policy=POLICY)


def test_a_pass_waits_for_the_look_that_meets_min_samples():
    n, cuts = 400, [100, 200, 300, 400]
    order = permutation(n, seed=0)
    base = _mc("b", [1] * n, order, n, cuts)
    cand = _mc("c", [1] * n, order, n, cuts, sequential=True)  # identical answers: decided as soon as allowed
    line = gate(baseline=base, candidate=cand, policy=POLICY).metrics[0]
    assert line.status == "pass" and line.look == 3 and line.samples == 300
    fixed = gate(baseline=base, candidate=cand, policy=POLICY, sequential=False).metrics[0]
    assert fixed.status == "pass" and fixed.look == 1 and fixed.looks == 1 and fixed.samples == 400


def test_looks_of_a_full_record_without_sequential_is_one_look_at_alpha():
    n, cuts = 400, [100, 200, 300, 400]
    order = permutation(n, seed=0)
    base, cand = _mc("b", [1] * n, order, n, cuts), _mc("c", [1] * n, order, n, cuts)
    looks = looks_of(base=base, cand=cand, alpha=0.05, sequential=False)
    assert len(looks) == 1 and looks[0].level == pytest.approx(0.05) and looks[0].cand is cand


def test_extend_record_appends_the_next_segment():
    n, cuts = 4, [2, 4]
    a = _mc("c", [1, 0], [0, 1], n, cuts)
    b = _mc("c", [1, 1], [2, 3], n, cuts)
    merged = extend_record(a, b)
    assert merged["order"]["scored"] == 4 and merged["order"]["index"] == [0, 1, 2, 3]
    assert merged["accuracy"]["accuracy"] == 0.75 and merged["seconds"]["scoring"] == 2.0
