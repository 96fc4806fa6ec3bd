"""The pilot report's efficiency section: per method, engine and hardware, speed, memory and serving cost.

Rows come from the pilot's own records (the hardware the pilot ran on) and from speed records
imported for the same artifacts (``kit speed import``: the serving hardware); each row names
its hardware, engine and source. Latency intervals are over timed repeats (the min–max of the
per-repeat values, :func:`kit.eval.timing.measure_latency`); records written before per-repeat
values existed have none, and the row says so. Costs come from :mod:`kit.govern.serving_cost`
at the stated price and utilisation; every table says which baseline it is against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.engines import engine_of
from kit.govern.serving_cost import (
    ServingPrice,
    cost_per_million_tokens,
    monthly_cost,
    served_baseline,
    serving_cost_tables,
)
from kit.govern.speed import speed_form

__all__ = ["decision_sentence", "hardware_label", "serving_section", "speed_row"]

_MIB = 2**20


def hardware_label(hw: dict[str, Any]) -> str:
    """``cpu (model name, AVX2)`` or ``cuda (GPU name)``: how a figure names the machine it came from.

    Args:
        hw: a record's ``environment.hardware`` (or a speed record's ``hardware``).
    """
    if hw.get("label"):
        return str(hw["label"])
    device = str(hw.get("device") or "cpu").split(":")[0]
    what = hw.get("gpu") if device == "cuda" else ", ".join(str(x) for x in (hw.get("cpu"), hw.get("cpu_capability")) if x)
    return f"{device} ({what or 'unknown'})"


def _interval(values: Any) -> list[float] | None:
    return [min(values), max(values)] if isinstance(values, list) and len(values) >= 2 else None


def speed_row(*, method: str, model: dict[str, Any], latency: dict[str, Any] | None, throughput: dict[str, Any] | None,
              memory: dict[str, Any] | None, hardware: dict[str, Any], source: str) -> dict[str, Any]:
    """One efficiency row: latency with its interval over repeats, tokens/s, resident memory, where it came from.

    Args:
        method: ``baseline`` or the quantization method.
        model: the record's ``model`` section (engine, dtype, sha256).
        latency: the record's ``latency`` (None: not measured).
        throughput: the record's ``throughput``.
        memory: the record's ``memory`` (weight bytes, peak RSS).
        hardware: the hardware section it was measured on.
        source: ``this pilot`` or the imported file.
    """
    lat, thr, mem = latency or {}, throughput or {}, memory or {}
    decode = _interval(lat.get("decode_ms_repeats"))
    return {"method": method, "form": speed_form(model) if method == "baseline" else method,
            "engine": engine_of(model).label(), "hardware": hardware_label(hardware), "source": source,
            "decode_ms": lat.get("decode_ms_mean") or lat.get("decode_ms_p50"), "decode_ms_interval": decode,
            "prefill_ms": lat.get("prefill_ms"), "prefill_ms_interval": _interval(lat.get("prefill_ms_repeats")),
            "repeats": lat.get("repeats"),
            "interval_note": None if decode or not lat else "no per-repeat values in this record (written before "
                                                             "they were kept): no interval over repeats",
            "decode_tokens_per_s": thr.get("decode_tokens_per_s"),
            "weights_MiB": None if mem.get("weight_bytes") is None else mem["weight_bytes"] / _MIB,
            "peak_rss_MiB": None if mem.get("peak_rss_bytes") is None else mem["peak_rss_bytes"] / _MIB}


def _cost(row: dict[str, Any], price: ServingPrice) -> dict[str, Any]:
    rate = row.get("decode_tokens_per_s")
    usd = (cost_per_million_tokens(decode_tokens_per_s=rate, hour_price=price.hour_price,
                                   utilisation=price.utilisation) if rate else None)
    return row | {"usd_per_1M_tokens": usd, "usd_per_month": None if usd is None else monthly_cost(
        usd_per_million=usd, tokens_per_day=price.tokens_per_day, days=price.days_per_month)}


def serving_section(*, rows: Sequence[dict[str, Any]], price: ServingPrice) -> dict[str, Any]:
    """Costs per row and, per hardware, tables against the served baseline and the fp32 reference.

    Args:
        rows: :func:`speed_row` rows (baseline forms have ``method`` ``baseline``).
        price: the stated price, utilisation and volume.
    """
    rows = [_cost(r, price) for r in rows]
    tables = []
    for hw in dict.fromkeys(r["hardware"] for r in rows):
        here = [r for r in rows if r["hardware"] == hw and r["decode_tokens_per_s"]]
        forms = [r | {"name": f"baseline {r['form']}"} for r in here if r["method"] == "baseline"]
        models = [r | {"name": r["method"]} for r in here if r["method"] != "baseline"]
        if not models:
            continue
        fp32 = next((f for f in forms if f["form"] == "fp32"), None)
        if fp32 is None:
            tables.append({"hardware": hw, "versus": None, "rows": models,
                           "note": "no baseline measured on this hardware: costs only, no savings"})
            continue
        for t in serving_cost_tables(models=models, reference=fp32, served=served_baseline(forms), price=price):
            tables.append(t | {"hardware": hw})
    return {"assumptions": price.lines(), "price": {"hour_price": price.hour_price, "utilisation": price.utilisation,
                                                    "tokens_per_day": price.tokens_per_day,
                                                    "days_per_month": price.days_per_month},
            "rows": rows, "tables": tables}


def decision_sentence(*, decision: dict[str, Any], serving: dict[str, Any]) -> str:
    """One sentence reading both halves: did accuracy hold on evidence, and what serving costs, where.

    Args:
        decision: the report's decision (``status``, ``recommended``).
        serving: from :func:`serving_section`.
    """
    served = [t for t in serving["tables"] if t.get("versus", "") and t["versus"].startswith("the served baseline")]
    method = decision.get("recommended")
    if method is None:
        best = min((r for t in served for r in t["rows"] if r["cost_change_pct"] is not None),
                   key=lambda r: r["cost_change_pct"], default=None)
        money = ("" if best is None else f"; the cheapest candidate, {best['name']}, would change serving cost "
                 f"{best['cost_change_pct']:+.0f} % vs {_versus(best, served)} — not sanctioned without the evidence")
        return "accuracy not shown to hold: no candidate passed the gate, so keep the baseline" + money
    mine = [(t, r) for t in served for r in t["rows"] if r["name"] == method and r["cost_change_pct"] is not None]
    if not mine:
        return (f"accuracy held on evidence ({method}); serving cost not measured against a baseline on the same "
                "hardware — measure it there (`kit speed measure`, `kit speed import`)")
    parts = [f"{r['cost_change_pct']:+.0f} % on {r['hardware']}, {r['engine']} (vs {_short(t)})" for t, r in mine]
    saved = any(r["cost_change_pct"] < 0 for _, r in mine)
    return (f"accuracy held on evidence ({method}); serving cost " + "; ".join(parts)
            + ("" if saved else " — no saving in serving cost on this hardware: what it saves is memory"))


def _short(table: dict[str, Any]) -> str:
    return "served baseline " + str(table["baseline"].get("form", "?"))


def _versus(row: dict[str, Any], tables: list[dict[str, Any]]) -> str:
    table = next(t for t in tables if row in t["rows"])
    return f"{_short(table)} on {row['hardware']}, {row['engine']}"
