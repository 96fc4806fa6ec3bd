"""Serving cost from measured decode speed: USD per 1M generated tokens, the monthly figure, savings.

One hour of the serving hardware costs ``hour_price`` and produces tokens for ``utilisation``
of it at the measured decode tokens/s, so 1M generated tokens cost
``hour_price / (tokens_per_s × 3600 × utilisation) × 1e6``; a month is that × daily tokens / 1e6
× days. Savings are stated against a named baseline, never an implied one: the *served
baseline* (the faster of the baseline's fp32 and bf16 forms measured in the same run on the
same hardware — how the unquantized model would actually be served) and the *fp32 reference*
(the trusted model the gate compares with). Every table says which one it is against.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kit.errors import KitError

__all__ = ["ServingPrice", "cost_per_million_tokens", "monthly_cost", "served_baseline", "serving_cost_tables"]


def _positive(name: str, value: Any, *, at_most: float | None = None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok or (at_most is not None and value > at_most):
        bound = f" and ≤ {at_most:g}" if at_most is not None else ""
        raise KitError(f"{name} must be a finite number > 0{bound}, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class ServingPrice:
    """What the cost figures assume: the hardware's hourly price, its utilisation, the daily volume."""

    hour_price: float  # USD per hour of the serving hardware (one accelerator or one server)
    utilisation: float  # fraction of each paid hour spent generating at the measured rate (0 < u ≤ 1)
    tokens_per_day: float  # generated tokens per day (requests × tokens per request)
    days_per_month: float = 30.0

    def __post_init__(self) -> None:
        """Refuse a price, utilisation or volume the arithmetic cannot use."""
        _positive("hour_price", self.hour_price)
        _positive("utilisation", self.utilisation, at_most=1.0)
        _positive("days_per_month", self.days_per_month)
        if not (isinstance(self.tokens_per_day, (int, float)) and math.isfinite(self.tokens_per_day)
                and self.tokens_per_day >= 0):
            raise KitError(f"tokens_per_day must be a finite number ≥ 0, got {self.tokens_per_day!r}")

    def lines(self) -> list[str]:
        """The assumptions as sentences (printed beside every table built from them)."""
        return [f"price: {self.hour_price:g} USD per hour of the serving hardware, busy {self.utilisation:.0%} of "
                "each hour at the measured batch-1 decode rate",
                f"volume: {self.tokens_per_day:,.0f} generated tokens per day; a month is {self.days_per_month:g} days"]


def cost_per_million_tokens(*, decode_tokens_per_s: float, hour_price: float, utilisation: float) -> float:
    """USD per 1M generated tokens at a decode rate, an hourly price and a utilisation.

    Args:
        decode_tokens_per_s: measured decode throughput (tokens/s).
        hour_price: USD per hour of the hardware.
        utilisation: fraction of the hour spent generating (0 < u ≤ 1).
    """
    rate = _positive("decode_tokens_per_s", decode_tokens_per_s)
    return _positive("hour_price", hour_price) / (rate * 3600.0 * _positive("utilisation", utilisation, at_most=1.0)) * 1e6


def monthly_cost(*, usd_per_million: float, tokens_per_day: float, days: float = 30.0) -> float:
    """USD per month of generating ``tokens_per_day`` at ``usd_per_million``.

    Args:
        usd_per_million: from :func:`cost_per_million_tokens`.
        tokens_per_day: generated tokens per day.
        days: days per month.
    """
    return usd_per_million * tokens_per_day / 1e6 * days


def served_baseline(forms: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The baseline as it would be served: the fastest of its measured forms (fp32, bf16) on one hardware.

    Args:
        forms: the baseline's measurements, each with ``form`` (e.g. ``fp32``), ``decode_tokens_per_s``
            and ``hardware``.
    """
    timed = [dict(f) for f in forms if f.get("decode_tokens_per_s")]
    if not timed:
        raise KitError("no measured form of the baseline has a decode speed; measure it (kit eval, kit speed measure)")
    hardware = {f.get("hardware") for f in timed}
    if len(hardware) > 1:
        raise KitError(f"the baseline's forms were measured on different hardware ({', '.join(map(str, hardware))}); "
                       "compare forms measured in the same run")
    best = max(timed, key=lambda f: f["decode_tokens_per_s"])
    missing = [x for x in ("fp32", "bf16") if x not in {f.get("form") for f in timed}]
    return best | {"why": f"the faster of {', '.join(f['form'] for f in timed)} measured in this run"
                   + (f" ({', '.join(missing)} not measured)" if missing else "")}


def _table(models: Sequence[Mapping[str, Any]], versus: Mapping[str, Any], title: str,
           price: ServingPrice) -> dict[str, Any]:
    def cost(m: Mapping[str, Any]) -> float | None:
        rate = m.get("decode_tokens_per_s")
        return (cost_per_million_tokens(decode_tokens_per_s=rate, hour_price=price.hour_price,
                                        utilisation=price.utilisation) if rate else None)

    base = cost(versus)
    rows = []
    for m in models:
        c = cost(m)
        saving = None if c is None or base is None else (base - c) / base * 100.0
        rows.append({"name": m["name"], "engine": m.get("engine"), "hardware": m.get("hardware"),
                     "decode_tokens_per_s": m.get("decode_tokens_per_s"), "usd_per_1M_tokens": c,
                     "usd_per_month": None if c is None else monthly_cost(usd_per_million=c,
                                                                         tokens_per_day=price.tokens_per_day,
                                                                         days=price.days_per_month),
                     "cost_change_pct": None if saving is None else -saving,
                     "note": "not measured" if saving is None else "saves" if saving > 0
                     else "costs more" if saving < 0 else "no change"})
    return {"versus": title, "baseline": dict(versus), "baseline_usd_per_1M_tokens": base, "rows": rows}


def serving_cost_tables(*, models: Sequence[Mapping[str, Any]], reference: Mapping[str, Any],
                        served: Mapping[str, Any], price: ServingPrice) -> list[dict[str, Any]]:
    """Two cost tables of the same models: against the served baseline, then against the fp32 reference.

    Args:
        models: each ``{"name", "engine", "hardware", "decode_tokens_per_s"}``.
        reference: the fp32 reference's measurement (same keys).
        served: the served baseline (:func:`served_baseline`).
        price: the stated price, utilisation and volume.
    """
    form = served.get("form", "?")
    return [_table(models, served, f"the served baseline ({form}, {served.get('why', 'as measured')})", price),
            _table(models, reference, "the fp32 reference (the gate's baseline)", price)]
