"""The debug instruments on a tiny random Llama (seconds): errors, shape, sensitivity, bisection, checks, auto-check."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from kit.debug.bisect import bisect_fix, memory_cost
from kit.debug.compare import compare_modules, shape_verdict, weight_error
from kit.debug.faults import apply_faults, fake_quantize, restore_modules, weight_modules
from kit.debug.sensitivity import rank_units, sensitivity
from kit.debug.stats import ErrorStats, MomentStats
from kit.errors import KitError

BAD = "model.layers.1.mlp.down_proj"

TOKENS = list(range(5, 90)) * 2  # ids inside the tiny model's 96-token vocabulary (fixture `tiny`, conftest)


def _quantized(model, *, bits=8):
    cand = copy.deepcopy(model)
    with torch.no_grad():
        for name, m in weight_modules(cand).items():
            if name.endswith("_proj"):
                m.weight.copy_(fake_quantize(m.weight, bits=bits, group_size=32))
    return cand




def test_error_stats_match_definitions():
    ref, cand = torch.tensor([3.0, 4.0]), torch.tensor([3.0, 5.0])
    s = ErrorStats()
    s.update(ref[:1], cand[:1])
    s.update(ref[1:], cand[1:])  # running sums over batches = one pass over everything
    m = s.metrics()
    assert m["rel_l2"] == pytest.approx(1 / 5)
    assert m["sqnr_db"] == pytest.approx(10 * math.log10(25 / 1))
    assert m["cosine"] == pytest.approx((9 + 20) / (5 * math.sqrt(34)))


def test_moment_stats_kurtosis_and_outlier_channel():
    torch.manual_seed(1)
    x = torch.randn(4000, 8)
    x[:, 5] *= 50  # one loud channel
    m = MomentStats()
    for part in x.split(1000):
        m.update(part)
    assert int(m.channel_max.argmax()) == 5
    assert m.kurtosis() > 3  # the loud channel makes the whole heavy-tailed
    assert m.percentile(99) < m.max_abs


def test_fake_quantize_levels_and_errors():
    w = torch.randn(4, 64)
    q = fake_quantize(w, bits=4, group_size=32)
    for row in q.reshape(8, 32):
        assert len(torch.unique(row)) <= 16
    with pytest.raises(KitError, match="does not divide"):
        fake_quantize(w, bits=4, group_size=48)
    err = weight_error(baseline=w, candidate=q, bits=4, group_size=32)
    assert err["vs_rtn"] == pytest.approx(1.0)
    assert weight_error(baseline=w, candidate=2 * w, bits=4, group_size=32)["vs_rtn"] > 50


def test_one_bad_module_ranks_first_and_stands_out(tiny):
    cand = _quantized(tiny)
    touched = apply_faults(cand, faults=[{"op": "scale", "modules": [BAD], "factor": 2.0}])
    assert touched == [BAD]
    table = compare_modules(baseline=tiny, candidate=cand, tokens=TOKENS, chunk=64, bits=8, group_size=32)
    assert table.ranked()[0]["name"] == BAD
    assert table.row(BAD)["isolated"]["rel_l2"] == pytest.approx(1.0, rel=1e-3)
    # propagated error after the bad block exceeds the one before it
    assert table.row("model.layers.1")["propagated"]["rel_l2"] > table.row("model.layers.0")["propagated"]["rel_l2"]
    verdict = shape_verdict(table)
    assert verdict["shape"] == "localized" and verdict["targets"][0] == BAD
    assert table.logits["kl_mean"] > 0
    assert table.to_dict()["rows"]  # JSON-ready


def test_uniform_noise_is_accumulated(tiny):
    table = compare_modules(baseline=tiny, candidate=_quantized(tiny, bits=4), tokens=TOKENS, chunk=64)
    assert shape_verdict(table)["shape"] == "accumulated"


def test_sensitivity_recovers_kl_of_the_bad_unit(tiny):
    cand = _quantized(tiny)
    apply_faults(cand, faults=[{"op": "scale", "modules": [BAD], "factor": 3.0}])
    table = compare_modules(baseline=tiny, candidate=cand, tokens=TOKENS, chunk=64)
    assert rank_units(table)[0]["unit"] == "model.layers.1"
    sens = sensitivity(baseline=tiny, candidate=cand, table=table, tokens=TOKENS, top=2, chunk=64)
    assert sens[0]["unit"] == "model.layers.1" and sens[0]["recovered_share"] > 0.5
    before = weight_modules(cand)[BAD].weight.clone()
    assert torch.equal(weight_modules(cand)[BAD].weight, before)  # put back after measuring


class _Verdict:
    def __init__(self, passed):
        self.passed, self.decision = passed, "pass" if passed else "fail"


class _Loaded:
    def __init__(self, model):
        self.model = model


def test_bisect_finds_the_single_projection(tiny):
    cand = _quantized(tiny)
    apply_faults(cand, faults=[{"op": "scale", "modules": [BAD], "factor": 2.0}])
    table = compare_modules(baseline=tiny, candidate=cand, tokens=TOKENS, chunk=64)
    good = weight_modules(tiny)[BAD].weight

    def gate(candidate):  # passes exactly when the bad projection holds the baseline's weights
        return _Verdict(torch.equal(weight_modules(candidate.model)[BAD].weight, good))

    found = bisect_fix(gate=gate, baseline=_Loaded(tiny), candidate=_Loaded(cand), table=table, bits=8, group_size=32)
    assert found["ignore"] == [BAD]
    assert found["memory"]["weights"] == 64 * 128
    assert [s["decision"] for s in found["steps"]][:2] == ["fail", "pass"]  # as is; everything kept


def test_bisect_says_when_weights_cannot_fix_it(tiny):
    cand = _quantized(tiny)
    table = compare_modules(baseline=tiny, candidate=cand, tokens=TOKENS, chunk=64)
    found = bisect_fix(gate=lambda c: _Verdict(False), baseline=_Loaded(tiny), candidate=_Loaded(cand), table=table)
    assert found["ignore"] is None and "not in the weights" in found["text"]


def test_memory_cost_counts_bytes(tiny):
    cost = memory_cost(model=tiny, names=[BAD], bits=8, group_size=32)
    assert cost["extra_bytes"] == int(64 * 128 * (4 - 1 - 4 / 32))


def test_restore_modules_keeps_ties_and_block_prefix(tiny):
    cand = _quantized(tiny)
    saved = restore_modules(cand, baseline=tiny, names=["model.layers.2"])
    assert set(saved) == {n for n, _ in cand.named_parameters() if n.startswith("model.layers.2.")}
    assert "model.layers.2.input_layernorm.weight" in saved  # the whole unit, norms included
    assert torch.equal(weight_modules(cand)["model.layers.2.mlp.up_proj"].weight,
                       weight_modules(tiny)["model.layers.2.mlp.up_proj"].weight)


def test_quantize_fault_unties_the_head(tiny):
    cand = copy.deepcopy(tiny)
    apply_faults(cand, faults=[{"op": "quantize", "modules": ["lm_head"], "bits": 4, "group_size": None}])
    assert cand.lm_head.weight is not cand.model.embed_tokens.weight
    assert torch.equal(cand.model.embed_tokens.weight, tiny.model.embed_tokens.weight)
    with pytest.raises(KitError, match="op"):
        apply_faults(cand, faults=[{"op": "melt", "modules": ["lm_head"]}])
