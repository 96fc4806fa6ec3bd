"""The pilot's result tables: the decision table, the recommendation, the work floor and per-record lines.

Pure functions of records and candidate results (no model, no registry): :func:`kit.govern.pilot.run_pilot`
builds its result with them, and they are importable from :mod:`kit.govern.pilot` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.eval.record import as_record
from kit.eval.tables import summarize

__all__ = ["decide", "decision_table", "floor_seconds", "headline", "scored_line", "stored_bytes"]


def headline(records: list[dict[str, Any]]) -> str:
    rows = [summarize(r) for r in records]
    return ", ".join(f"{r['set']} {r['metric']} {r['value']}" for r in rows)


def stored_bytes(candidate: dict[str, Any]) -> int:
    """Bytes of the saved artifact (from its config log), else the in-memory size as evaluated."""
    return int((candidate.get("config") or {}).get("weight_bytes") or as_record(candidate["records"][0]).memory["weight_bytes"])


def decision_table(*, baseline: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model (baseline first): size, primary metrics, agreement, speed, verdict, registry id.

    Args:
        baseline: the baseline's records.
        candidates: the pilot's candidate results (``method``, ``records``, ``verdict``, ``entry_id``, ``config``).
    """
    def row(method: str, bits: Any, records: list[dict[str, Any]], stored: int, verdict: str,
            entry: str | None) -> dict[str, Any]:
        summaries = [summarize(r) for r in records]
        out: dict[str, Any] = {"method": method, "bits": bits, "stored_MiB": round(stored / 2**20, 1),
                               "in_memory_MiB": summaries[0]["weights_MiB"]}
        out |= {f"{s['set']} {s['metric']}": s["value"] for s in summaries}
        agreed = [s for s in summaries if s["top1_agree"] is not None]  # text sets scored against the baseline
        out |= {"top1": agreed[0]["top1_agree"] if agreed else None, "kl": agreed[0]["kl"] if agreed else None}
        return out | {"decode_tok_s": summaries[0]["decode_tok_s"], "gate": verdict, "entry": entry}

    rows = [row("baseline", None, baseline, as_record(baseline[0]).memory["weight_bytes"], "-", None)]
    rows += [row(c["method"], c["verdict"]["candidate"].get("bits"), c["records"], stored_bytes(c),
                 c["verdict"]["decision"], c.get("entry_id")) for c in candidates]
    return rows


def decide(policy_default: str, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    passing = [c for c in candidates if c["verdict"]["passed"]]
    if not passing:
        return {"recommended": None, "entry_id": None, "why": "no candidate passed the gate; keep the baseline"}
    default = [c for c in passing if c["method"] == policy_default]
    pick = default[0] if default else min(passing, key=stored_bytes)
    why = ("the sanctioned default passed" if default
           else "smallest passing candidate (the default did not pass or was not tried)")
    return {"recommended": pick["method"], "entry_id": pick.get("entry_id"), "why": why}


def scored_line(record: dict[str, Any]) -> dict[str, Any]:
    """A fully scored record's line of the candidate's ``evaluation`` (as :meth:`Progress.summary`)."""
    rec = as_record(record)
    order = rec.extra.get("order") or {}
    total = order.get("total") or rec.accuracy.get("windows") or rec.accuracy.get("items") or 0
    unit = "windows" if rec.kind == "text" else "items"
    return {"scored": order.get("scored", total), "total": total, "unit": unit, "fraction": 1.0 if total else None}


def floor_seconds(*, quantize: Sequence[float], baseline: Sequence[dict[str, Any] | None],
                  candidates: Sequence[Sequence[dict[str, Any]]]) -> dict[str, float]:
    """The work a pilot cannot avoid: every quantization plus one forward pass of each model over each set.

    The baseline's pass counts once per set: its own scoring when it was evaluated this run, else
    (cached record) the shared reference pass that agreement needed on a text set.

    Args:
        quantize: seconds of each quantization.
        baseline: per set, the baseline record evaluated this run, or None when it came from the cache.
        candidates: per candidate, its records (set order), with ``seconds.scoring`` / ``seconds.reference``.
    """
    forward = 0.0
    for i, fresh in enumerate(baseline):
        records = [c[i] for c in candidates]
        forward += sum(r["seconds"]["scoring"] for r in records)
        if fresh is not None:
            forward += fresh["seconds"]["scoring"]
        elif records:
            forward += max((r["seconds"].get("reference") or 0.0) for r in records)
    q = float(sum(quantize))
    return {"quantize_s": round(q, 3), "forward_s": round(forward, 3), "floor_s": round(q + forward, 3)}
