"""The pilot's floor: quantizations plus one forward pass of each model over each set, the baseline once."""

import pytest

from kit.govern.pilot import floor_seconds


def _rec(scoring, reference=None):
    return {"seconds": {"scoring": scoring, **({"reference": reference} if reference is not None else {})}}


def test_a_fresh_baseline_counts_its_own_pass_once():
    base = [_rec(10.0), _rec(4.0)]  # text set (scored from the shared reference pass), MC set
    cands = [[_rec(7.0, 10.0), _rec(3.0)], [_rec(6.0, 10.0), _rec(2.0)]]
    f = floor_seconds(quantize=[30.0, 50.0], baseline=base, candidates=cands)
    assert f == {"quantize_s": 80.0, "forward_s": 10 + 4 + 7 + 3 + 6 + 2, "floor_s": 80.0 + 32.0}


def test_a_cached_baseline_still_costs_the_shared_reference_pass_on_text_sets_only():
    cands = [[_rec(7.0, 10.0), _rec(3.0)], [_rec(6.0, 9.5), _rec(2.0)]]
    f = floor_seconds(quantize=[1.5], baseline=[None, None], candidates=cands)
    assert f["forward_s"] == pytest.approx(10.0 + 7 + 6 + 3 + 2)  # the reference once (not per candidate)
    assert f["floor_s"] == pytest.approx(f["forward_s"] + 1.5)
