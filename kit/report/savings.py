"""Savings from measurements: memory → accelerators per replica, tokens/s → serving hours and price per 1M tokens.

Every number comes from a harness record (weight bytes, decode tokens/s) or from a stated
assumption (volume, tokens per request, hour price, accelerator memory); the result lists each
assumption beside the figures it produced. Monthly money goes through
:func:`kit.govern.costs.monthly_savings`, the one place that arithmetic lives.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kit.errors import KitError
from kit.govern.costs import monthly_savings

__all__ = ["CostAssumptions", "cost_of", "savings"]

_GIB = 2**30


@dataclasses.dataclass(frozen=True)
class CostAssumptions:
    """What the cost model assumes (printed beside every figure it produces)."""

    requests_per_day: int
    tokens_per_request: int
    accelerator_hour_price: float
    accelerator_memory_gib: float
    memory_headroom: float
    hardware: str
    cost_basis: str = "throughput"
    days_per_month: float = 30.0

    def lines(self) -> list[str]:
        """The assumptions as sentences."""
        return [
            f"volume: {self.requests_per_day:,} requests/day × {self.tokens_per_request:,} generated tokens each",
            f"price: {self.accelerator_hour_price:g} USD per accelerator hour; {self.accelerator_memory_gib:g} GiB "
            "memory per accelerator",
            f"replica memory: weights × (1 + {self.memory_headroom:g}) for KV cache and activations",
            f"throughput: batch-1 greedy decode tokens/s as measured on {self.hardware}; a batching server does more "
            "per hour, so the hours are an upper bound and the ratio between models is what carries over",
            f"a month is {self.days_per_month:g} days; savings headline basis: {self.cost_basis}",
        ]


def cost_of(*, weight_bytes: int, decode_tokens_per_s: float | None, a: CostAssumptions) -> dict[str, Any]:
    """One model's serving cost under the assumptions.

    Args:
        weight_bytes: in-memory weight bytes (measured).
        decode_tokens_per_s: measured decode throughput (None when not measured).
        a: the assumptions.
    """
    accelerators = max(1, math.ceil(weight_bytes * (1 + a.memory_headroom) / (a.accelerator_memory_gib * _GIB)))
    out: dict[str, Any] = {"accelerators_per_replica": accelerators, "weight_GiB": round(weight_bytes / _GIB, 4),
                           "serving_hours_per_day": None, "usd_per_day_throughput": None, "usd_per_1M_tokens": None}
    if decode_tokens_per_s:
        hours = a.requests_per_day * a.tokens_per_request / decode_tokens_per_s / 3600
        out |= {"serving_hours_per_day": hours, "usd_per_day_throughput": hours * accelerators * a.accelerator_hour_price,
                "usd_per_1M_tokens": accelerators * a.accelerator_hour_price / (decode_tokens_per_s * 3600) * 1e6}
    # memory basis: replicas sized by memory, each kept busy the same hours as the baseline's
    out["usd_per_day_memory"] = accelerators * a.accelerator_hour_price * 24
    return out


def savings(*, baseline: dict[str, Any], candidate: dict[str, Any], a: CostAssumptions) -> dict[str, Any]:
    """Monthly savings of serving ``candidate`` instead of ``baseline``, with the ratio behind it.

    Args:
        baseline: ``{"weight_bytes": .., "decode_tokens_per_s": ..}`` of the baseline (measured).
        candidate: the same for the quantized model.
        a: the assumptions.
    """
    if a.cost_basis not in ("throughput", "memory"):
        raise KitError(f"cost_basis must be throughput or memory, got {a.cost_basis!r}")
    b, c = (cost_of(weight_bytes=m["weight_bytes"], decode_tokens_per_s=m.get("decode_tokens_per_s"), a=a)
            for m in (baseline, candidate))
    key = "usd_per_day_throughput" if a.cost_basis == "throughput" else "usd_per_day_memory"
    if not b[key] or c[key] is None:
        return {"basis": a.cost_basis, "baseline": b, "candidate": c, "cost_ratio": None, "usd_per_month": None,
                "note": "throughput was not measured for both models; re-run the pilot with speed measurement"}
    ratio = c[key] / b[key]
    per_1k = b[key] / a.requests_per_day * 1000 if a.requests_per_day else 0.0
    month = monthly_savings(requests_per_day=a.requests_per_day, cost_per_1k_requests=per_1k, cost_ratio=ratio,
                            days=a.days_per_month)
    return {"basis": a.cost_basis, "baseline": b, "candidate": c, "cost_ratio": ratio, "usd_per_month": month,
            "note": ("saves" if month > 0 else "costs more than the baseline" if month < 0 else "no change")}
