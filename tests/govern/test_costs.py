"""kit.govern.costs: the serving-cost arithmetic and the when-to-quantize judgment (used by reports and teaching)."""

import math

import pytest

from kit.errors import KitError
from kit.govern.costs import CRITICALITY, assess, monthly_savings, payback_months


def test_monthly_savings_is_volume_times_price_times_the_saved_share():
    # 400k requests/day × 30 days = 12M requests = 12,000 × 0.60 USD = 7,200 USD; 30 % saved
    assert monthly_savings(requests_per_day=400_000, cost_per_1k_requests=0.60, cost_ratio=0.7) == pytest.approx(2160)
    assert monthly_savings(requests_per_day=1000, cost_per_1k_requests=1.0, cost_ratio=1.5, days=10) == pytest.approx(-5)
    for bad in ({"requests_per_day": -1}, {"cost_per_1k_requests": -1}, {"cost_ratio": 0}):
        args = {"requests_per_day": 1, "cost_per_1k_requests": 1, "cost_ratio": 0.5} | bad
        with pytest.raises(KitError):
            monthly_savings(**args)


def test_payback_is_infinite_without_savings():
    assert payback_months(engineering_cost=6000, savings_per_month=2000) == 3
    assert payback_months(engineering_cost=6000, savings_per_month=0) == math.inf
    assert payback_months(engineering_cost=6000, savings_per_month=-5) == math.inf


def test_assess_quantizes_a_fast_payback_and_skips_with_every_reason():
    go = assess(requests_per_day=400_000, criticality="medium", savings_per_month=2160, engineering_cost=6000,
                gate_passed=True)
    assert go["decision"] == "quantize" and go["payback_months"] == pytest.approx(6000 / 2160)
    wait = assess(requests_per_day=400_000, criticality="low", savings_per_month=2160, engineering_cost=6000,
                  gate_passed=None)
    assert wait["decision"] == "evaluate first"
    skip = assess(requests_per_day=1500, criticality="high", savings_per_month=8.1, engineering_cost=6000,
                  gate_passed=False)
    assert skip["decision"] == "skip" and len(skip["reasons"]) == 3  # the gate, the payback, the criticality
    risky = assess(requests_per_day=400_000, criticality="high", savings_per_month=1500, engineering_cost=6000,
                   gate_passed=True)  # 4 months: fine for medium, too slow for high (> 3)
    assert risky["decision"] == "skip" and "high criticality" in risky["reasons"][0]
    with pytest.raises(KitError, match="criticality must be one of low, medium, high"):
        assess(requests_per_day=1, criticality="extreme", savings_per_month=1, engineering_cost=1, gate_passed=True)
    assert CRITICALITY == ("low", "medium", "high")


def test_teach_still_exports_the_cost_model():
    import kit.teach

    assert (kit.teach.assess, kit.teach.monthly_savings, kit.teach.payback_months) == (
        assess, monthly_savings, payback_months)
