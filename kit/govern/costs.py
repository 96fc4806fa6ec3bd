"""Serving-cost arithmetic and the when-to-quantize judgment (volume × tolerance × criticality)."""

from __future__ import annotations

import math
from typing import Any

from kit.errors import KitError

__all__ = ["CRITICALITY", "assess", "monthly_savings", "payback_months"]

#: How much an accuracy regression costs, by use case criticality.
CRITICALITY = ("low", "medium", "high")


def monthly_savings(*, requests_per_day: float, cost_per_1k_requests: float, cost_ratio: float,
                    days: float = 30.0) -> float:
    """Money saved per month by serving at ``cost_ratio`` of the baseline's cost per request.

    ``cost_ratio`` comes from measurements on the serving hardware: for memory-bound decoding
    it is roughly the ratio of GPUs (or GPU-hours) needed, e.g. weight bytes quantized/baseline
    when replicas are sized by memory, or baseline/quantized throughput when sized by speed.

    Args:
        requests_per_day: inference volume of the model.
        cost_per_1k_requests: the baseline's serving cost per thousand requests.
        cost_ratio: quantized cost / baseline cost per request (0 < ratio).
        days: days per month.
    """
    if requests_per_day < 0 or cost_per_1k_requests < 0:
        raise KitError("requests_per_day and cost_per_1k_requests must be ≥ 0")
    if cost_ratio <= 0:
        raise KitError(f"cost_ratio must be > 0 (quantized cost / baseline cost), got {cost_ratio}")
    return requests_per_day * days / 1000.0 * cost_per_1k_requests * (1.0 - cost_ratio)


def payback_months(*, engineering_cost: float, savings_per_month: float) -> float:
    """Months until the savings repay the work of quantizing, validating and maintaining.

    Args:
        engineering_cost: one-off cost of the quantization project (same currency as savings).
        savings_per_month: from :func:`monthly_savings`.
    """
    return math.inf if savings_per_month <= 0 else engineering_cost / savings_per_month


def assess(*, requests_per_day: float, criticality: str, savings_per_month: float, engineering_cost: float,
           gate_passed: bool | None, max_payback_months: float = 6.0) -> dict[str, Any]:
    """Recommend ``quantize`` or ``skip`` with the reasons, from volume, savings, criticality and the gate.

    Args:
        requests_per_day: inference volume.
        criticality: ``low``, ``medium`` or ``high`` (how costly an accuracy regression is).
        savings_per_month: expected savings.
        engineering_cost: one-off cost of doing it.
        gate_passed: the gate's verdict for the best candidate (None: not evaluated yet).
        max_payback_months: longest acceptable payback.
    """
    if criticality not in CRITICALITY:
        raise KitError(f"criticality must be one of {', '.join(CRITICALITY)}, got {criticality!r}")
    payback = payback_months(engineering_cost=engineering_cost, savings_per_month=savings_per_month)
    reasons = []
    if gate_passed is False:
        reasons.append("no candidate passed the gate for this use case's tolerances")
    if payback > max_payback_months:
        reasons.append(f"payback {payback:.1f} months exceeds {max_payback_months:g} "
                       f"(volume {requests_per_day:,.0f}/day is too low for the work)")
    if criticality == "high" and payback > max_payback_months / 2:
        reasons.append("high criticality needs a fast payback to justify the regression risk")
    decision = "skip" if reasons else "quantize" if gate_passed else "evaluate first"
    if decision != "skip":
        reasons.append(f"payback {payback:.1f} months at {requests_per_day:,.0f} requests/day")
    return {"decision": decision, "payback_months": payback, "reasons": reasons}
