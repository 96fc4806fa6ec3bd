"""Adoption metrics from the registry: coverage by volume, time-to-quantize, incidents by stage, cumulative savings.

The four metrics are pure functions of plain values (unit-tested arithmetic); :func:`collect`
reads them out of a registry (inventory, entries, validations, promotions, incidents) and
adds per-model trends across validations.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from kit.govern.costs import monthly_savings
from kit.report.savings import CostAssumptions, savings

__all__ = ["SCHEMA", "collect", "coverage", "cumulative_savings", "incident_counts", "time_to_quantize"]

SCHEMA = "kit.adoption/1"


def _day(iso: str) -> datetime.date:
    return datetime.date.fromisoformat(iso[:10])


def _hours(start: str, end: str) -> float:
    parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds() / 3600


def coverage(*, volumes: Mapping[str, int], covered: set[str], top_n: int) -> dict[str, Any]:
    """Share of inference volume served by validated, promoted quantized models, highest volume first.

    Args:
        volumes: requests/day per served model.
        covered: models served by a promoted entry whose latest validation passed.
        top_n: also report the share within the N highest-volume models.
    """
    ranked = sorted(volumes.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(volumes.values())
    rows: list[dict[str, Any]] = []
    running = 0
    for rank, (model, volume) in enumerate(ranked, start=1):
        running += volume
        rows.append({"rank": rank, "model": model, "requests_per_day": volume, "covered": model in covered,
                     "volume_share": volume / total if total else 0.0, "cumulative_share": running / total if total else 0.0})
    top = rows[:top_n]
    top_volume = sum(r["requests_per_day"] for r in top)
    return {"total_volume": total, "covered_volume": sum(r["requests_per_day"] for r in rows if r["covered"]),
            "share": sum(r["requests_per_day"] for r in rows if r["covered"]) / total if total else 0.0,
            "top_n": top_n, "top_n_share": sum(r["requests_per_day"] for r in top if r["covered"]) / top_volume
            if top_volume else 0.0, "top_n_covered": sum(r["covered"] for r in top), "rows": rows}


def time_to_quantize(*, first_pilot: Mapping[str, str], first_promotion: Mapping[str, str],
                     followed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Hours from a model's first pilot entry to its first promotion, per model, with the trend by promotion month.

    Split into first pilots and templated ones (``kit pilot --like``): the template is why the second is faster.

    Args:
        first_pilot: model (or model/use case) → ISO time of its first registry entry.
        first_promotion: the same keys → ISO time of its first promotion (absent: not promoted yet).
        followed: model → the entry whose validated pilot its first pilot replayed (absent: a first pilot).
    """
    followed = followed or {}
    rows: list[dict[str, Any]] = [
        {"model": k, "first_pilot": first_pilot[k], "promoted": first_promotion[k],
         "hours": _hours(first_pilot[k], first_promotion[k]), "template_of": followed.get(k)}
        for k in sorted(first_promotion, key=lambda k: first_promotion[k]) if k in first_pilot]
    by_kind = {}
    for kind, chosen in (("first pilot", [r for r in rows if not r["template_of"]]),
                         ("templated", [r for r in rows if r["template_of"]])):
        by_kind[kind] = {"models": len(chosen),
                         "median_hours": statistics.median([r["hours"] for r in chosen]) if chosen else None}
    months: dict[str, list[float]] = {}
    for r in rows:
        months.setdefault(r["promoted"][:7], []).append(r["hours"])
    trend = [{"month": m, "median_hours": statistics.median(v), "models": len(v)} for m, v in sorted(months.items())]
    pending = sorted(k for k in first_pilot if k not in first_promotion)
    return {"rows": rows, "median_hours": statistics.median([r["hours"] for r in rows]) if rows else None,
            "trend": trend, "not_promoted": pending, "by_kind": by_kind}


def incident_counts(*, incidents: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Regression incidents caught at the gate vs reached production, in total and per month.

    Args:
        incidents: dicts with ``stage`` (gate/production) and ``occurred_at`` (ISO).
    """
    totals = {"gate": 0, "production": 0}
    months: dict[str, dict[str, int]] = {}
    for inc in incidents:
        totals[inc["stage"]] += 1
        months.setdefault(inc["occurred_at"][:7], {"gate": 0, "production": 0})[inc["stage"]] += 1
    n = totals["gate"] + totals["production"]
    return {**totals, "total": n, "caught_at_gate_share": totals["gate"] / n if n else None,
            "by_month": [{"month": m} | c for m, c in sorted(months.items())]}


def cumulative_savings(*, streams: Sequence[Mapping[str, Any]], as_of: datetime.date) -> dict[str, Any]:
    """Savings accumulated day by day from each model's promotion date up to ``as_of`` (inclusive).

    Args:
        streams: dicts with ``model``, ``start`` (ISO date of promotion) and ``usd_per_day`` (measured cost model).
        as_of: the last day counted.
    """
    if not streams:
        return {"total_usd": 0.0, "series": [], "by_model": {}}
    first = min(_day(s["start"]) for s in streams)
    series, total, by_model = [], 0.0, {s["model"]: 0.0 for s in streams}
    day = first
    while day <= as_of:
        for s in streams:
            if _day(s["start"]) <= day:
                total += s["usd_per_day"]
                by_model[s["model"]] += s["usd_per_day"]
        series.append({"date": day.isoformat(), "cumulative_usd": total})
        day += datetime.timedelta(days=1)
    return {"total_usd": total, "series": series, "by_model": by_model}


def _entry_savings(entry: Any, item: Any, basis: str) -> dict[str, Any]:
    """USD/day saved on this inventory model's traffic by serving this entry (cost ratio from its records)."""
    from kit.report.params import PILOT

    a = CostAssumptions(requests_per_day=item.requests_per_day, tokens_per_request=PILOT["tokens_per_request"].default,
                        accelerator_hour_price=PILOT["accelerator_hour_price"].default,
                        accelerator_memory_gib=PILOT["accelerator_memory_gib"].default,
                        memory_headroom=PILOT["memory_headroom"].default, hardware="as recorded", cost_basis=basis)

    def measured(records: list[dict[str, Any]]) -> dict[str, Any]:
        timed = next((r for r in records if r.get("throughput")), records[0])
        return {"weight_bytes": records[0]["memory"]["weight_bytes"],
                "decode_tokens_per_s": (timed.get("throughput") or {}).get("decode_tokens_per_s")}

    s = savings(baseline=measured(entry.evals["baseline"]), candidate=measured(entry.evals["candidate"]), a=a)
    if s["cost_ratio"] is None or not item.serving_cost_per_day or not item.requests_per_day:
        return {"cost_ratio": s["cost_ratio"], "usd_per_day": None}
    per_1k = item.serving_cost_per_day / item.requests_per_day * 1000
    return {"cost_ratio": s["cost_ratio"], "usd_per_day": monthly_savings(
        requests_per_day=item.requests_per_day, cost_per_1k_requests=per_1k, cost_ratio=s["cost_ratio"], days=1)}


def collect(*, registry: Any, top_n: int, cost_basis: str, as_of: datetime.date) -> dict[str, Any]:
    """The dashboard's data from an open registry (inventory, entries, validations, promotions, incidents).

    Args:
        registry: an open :class:`~kit.govern.registry.Registry`.
        top_n: coverage of the N highest-volume models.
        cost_basis: ``throughput`` or ``memory`` (how the cost ratio is measured).
        as_of: last day of the savings series.
    """
    inventory = {i.model_ref: i for i in registry.inventory()}
    entries = registry.list()
    latest = registry.latest_validations()
    served = {}  # inventory model → its promoted, currently passing entry
    for e in entries:
        model = e.baseline_ref or e.model_ref
        item = inventory.get(model)
        if item and e.aliases and latest[e.id].passed and (not item.use_case or item.use_case == e.use_case):
            served[model] = e
    first_pilot: dict[str, str] = {}
    followed: dict[str, str] = {}  # model → the entry its first pilot replayed (kit pilot --like)
    for e in entries:
        model = e.baseline_ref or e.model_ref
        if model not in first_pilot and e.template_of:
            followed[model] = e.template_of
        first_pilot.setdefault(model, e.created_at)
    by_id = {e.id: e for e in entries}
    first_promotion: dict[str, str] = {}
    for p in registry.promotions():
        first_promotion.setdefault(by_id[p.entry_id].baseline_ref or by_id[p.entry_id].model_ref, p.promoted_at)
    streams, money_rows = [], []
    for model, e in served.items():
        money = _entry_savings(e, inventory[model], cost_basis)
        promoted = first_promotion.get(model, e.created_at)
        money_rows.append({"model": model, "entry": e.id, "method": e.method, "since": promoted[:10], **money})
        if money["usd_per_day"] is not None:
            streams.append({"model": model, "start": promoted[:10], "usd_per_day": money["usd_per_day"]})
    trends = []
    for e in entries:
        for v in registry.validations(e.id):
            trends.append({"model": e.baseline_ref or e.model_ref, "entry": e.id, "method": e.method,
                           "use_case": e.use_case, "validated_at": v.created_at, "kind": v.kind, "passed": v.passed,
                           "metrics": {m["metric"]: {"value": m["value"], "status": m["status"]}
                                       for m in v.verdict.get("metrics", [])},
                           "torch": (v.stack.get("packages") or {}).get("torch")})
    sources = sorted({i.source for i in inventory.values()} | {i.source for i in registry.incidents()})
    return {
        "schema": SCHEMA, "kind": "adoption", "as_of": as_of.isoformat(), "cost_basis": cost_basis,
        "example_data": any(s.startswith("example:") for s in sources), "sources": sources,
        "coverage": coverage(volumes={m: i.requests_per_day for m, i in inventory.items()}, covered=set(served),
                             top_n=top_n),
        "time_to_quantize": time_to_quantize(first_pilot={k: v for k, v in first_pilot.items() if k in inventory},
                                             first_promotion={k: v for k, v in first_promotion.items() if k in inventory},
                                             followed=followed),
        "incidents": incident_counts(incidents=[{"stage": i.stage, "occurred_at": i.occurred_at}
                                                for i in registry.incidents()]),
        "savings": {"per_model": money_rows, **cumulative_savings(streams=streams, as_of=as_of)},
        "trends": trends,
        "registry": registry.location,
    }
