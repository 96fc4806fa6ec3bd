"""kit.report.savings: serving cost from measured bytes and throughput, on the throughput or memory basis."""

import pytest

from kit.errors import KitError
from kit.report.savings import CostAssumptions, cost_of, savings

A = CostAssumptions(requests_per_day=100_000, tokens_per_request=200, accelerator_hour_price=2.0,
                    accelerator_memory_gib=16.0, memory_headroom=0.5, hardware="test CPU")
GIB = 2**30


def test_cost_of_sizes_replicas_by_memory_and_hours_by_throughput():
    c = cost_of(weight_bytes=12 * GIB, decode_tokens_per_s=100.0, a=A)  # 18 GiB with headroom: 2 accelerators
    assert c["accelerators_per_replica"] == 2
    hours = 100_000 * 200 / 100 / 3600
    assert c["serving_hours_per_day"] == pytest.approx(hours)
    assert c["usd_per_day_throughput"] == pytest.approx(hours * 2 * 2.0)
    assert c["usd_per_day_memory"] == 2 * 2.0 * 24
    assert cost_of(weight_bytes=GIB, decode_tokens_per_s=None, a=A)["usd_per_day_throughput"] is None


def test_savings_on_each_basis_and_without_throughput():
    base, cand = {"weight_bytes": 12 * GIB, "decode_tokens_per_s": 100.0}, {"weight_bytes": 4 * GIB,
                                                                             "decode_tokens_per_s": 50.0}
    slow = savings(baseline=base, candidate=cand, a=A)  # half the speed on one accelerator instead of two: same cost
    assert slow["cost_ratio"] == pytest.approx(1.0) and slow["note"] == "no change"
    memory = savings(baseline=base, candidate=cand, a=CostAssumptions(**{**A.__dict__, "cost_basis": "memory"}))
    assert memory["cost_ratio"] == pytest.approx(0.5) and memory["usd_per_month"] > 0 and memory["note"] == "saves"
    unmeasured = savings(baseline=base, candidate={"weight_bytes": GIB}, a=A)
    assert unmeasured["usd_per_month"] is None and "re-run the pilot" in unmeasured["note"]
    with pytest.raises(KitError, match="cost_basis must be throughput or memory"):
        savings(baseline=base, candidate=cand, a=CostAssumptions(**{**A.__dict__, "cost_basis": "vibes"}))
    assert any("test CPU" in line for line in A.lines())
