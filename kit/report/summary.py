"""The pilot report's content as data (``summary.json``): decision, before/after metrics, savings, provenance.

Built from registry entries (each holds the baseline's and the candidate's harness records, the
gate's verdict and the quantization log), so a report can be rebuilt at any time from what
the registry stored. :func:`comparable` drops what moves between runs (ids, timings, versions)
for comparisons against an expected file.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from kit.errors import KitError
from kit.eval.record import METRICS
from kit.eval.tables import summarize
from kit.govern.pilot_engines import SERVED_FORMS_KEY
from kit.govern.serving_cost import ServingPrice
from kit.report.efficiency import decision_sentence, serving_section, speed_row
from kit.report.savings import CostAssumptions, savings

__all__ = ["SCHEMA", "VOLATILE", "candidates_from_entries", "comparable", "pilot_entries", "build_summary"]

SCHEMA = "kit.report/1"
#: Dotted paths (``[]`` = every list item) that change between runs of the same records.
VOLATILE = ("created_at", "decision.entry_id", "metrics[].entry_id", "efficiency[].entry_id", "provenance")


def _baseline_key(entry: Any) -> str:
    return hashlib.sha256(json.dumps(entry.evals["baseline"], sort_keys=True, default=str).encode()).hexdigest()


def pilot_entries(*, registry: Any, model: str, use_case: str, entry_ids: Sequence[str] = ()) -> list[Any]:
    """The entries of one pilot: those named, else the latest entry's run (same baseline records) of model/use case.

    Args:
        registry: an open :class:`~kit.govern.registry.Registry`.
        model: the baseline alias or folder.
        use_case: the use case.
        entry_ids: explicit entry ids (or prefixes).
    """
    if entry_ids:
        entries = [registry.get(e) for e in entry_ids]
        keys = {_baseline_key(e) for e in entries}
        if len(keys) > 1:
            raise KitError("the entries were gated against different baseline runs; report them separately "
                           "(a report compares candidates against one baseline measurement)")
        return entries
    found = [e for e in registry.find(model) if e.use_case == use_case and e.method != "none"]
    if not found:
        return []
    key = _baseline_key(found[-1])
    return [e for e in found if _baseline_key(e) == key]


def candidates_from_entries(entries: Sequence[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The baseline records and one candidate dict per entry (``method, records, verdict, config, entry_id``).

    Args:
        entries: registry entries of one pilot.
    """
    if not entries:
        raise KitError("no registry entries to report on")
    cands = [{"method": e.method, "bits": e.bits, "entry_id": e.id, "created_at": e.created_at,
              "records": e.evals["candidate"], "verdict": e.verdict, "config": e.quant_config or {}} for e in entries]
    return list(entries[0].evals["baseline"]), cands


def _stored(c: dict[str, Any]) -> int:
    return int(c["config"].get("weight_bytes") or c["records"][0]["memory"]["weight_bytes"])


def _speed(records: list[dict[str, Any]]) -> dict[str, Any]:
    timed = next((r for r in records if r.get("latency")), None)
    lat, thr = (timed or {}).get("latency") or {}, (timed or {}).get("throughput") or {}
    return {"decode_ms_p50": lat.get("decode_ms_p50"), "decode_ms_p95": lat.get("decode_ms_p95"),
            "decode_tokens_per_s": thr.get("decode_tokens_per_s")}


def _recovery(metric: str, value: float, baseline: float) -> float | None:
    spec = METRICS[metric]
    if spec.ideal is not None or not baseline or not value:
        return None  # agreement metrics already measure closeness to the baseline
    return 100.0 * (value / baseline if spec.direction == "higher" else baseline / value)


def _metric_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for m in c["verdict"]["metrics"]:
        test = m.get("test") or {}
        rows.append({"method": c["method"], "entry_id": c["entry_id"], "metric": m["metric"], "set": m["eval_set"],
                     "baseline": m["baseline"], "value": m["value"], "change": m["delta"], "change_kind": m["limit_kind"],
                     "recovery_pct": _recovery(m["metric"], m["value"], m["baseline"]), "status": m["status"],
                     "limit": m["limit"], "margin": m["margin"], "samples": m["samples"],
                     "min_samples": m["min_samples"], "p_value": test.get("p_value", test.get("p_value_any_change")),
                     "interval": m.get("interval") or test.get("bootstrap_ci"), "needed": m.get("needed"),
                     "note": m["note"]})
    return rows


def _detail(m: dict[str, Any]) -> str:
    if m["status"] == "insufficient-samples":
        return f" ({m['samples']} {m['sample_unit']} < {m['min_samples']})"
    if m["status"] == "inconclusive" and m.get("needed"):
        return f" (about {m['needed']} {m['sample_unit']} would decide it)"
    return ""


def _decision(*, use_case: str, default_method: str, cands: list[dict[str, Any]]) -> dict[str, Any]:
    from kit.govern.pilot_results import decide as _decide  # the pilot's rule: sanctioned default if passed, else smallest

    chosen = _decide(default_method, cands)
    if chosen["recommended"]:
        pick = next(c for c in cands if c["entry_id"] == chosen["entry_id"] and c["method"] == chosen["recommended"])
        closest = min(pick["verdict"]["metrics"], key=lambda m: m["margin"] / (m["limit"] or 1))
        why = (f"{chosen['why']}: within every {use_case} tolerance; tightest: {closest['metric']} on "
               f"{closest['eval_set']} ({closest['status']}, margin {closest['margin']:+.4g} of {closest['limit']:g} "
               "allowed)")
        what = pick["method"] + (f" ({pick['bits']}-bit)" if pick["bits"] else "")
        return {"status": "pass", "recommended": pick["method"], "entry_id": pick["entry_id"],
                "headline": f"Recommended: {what}", "why": why}
    problems = []
    for c in cands:
        bad = [m for m in c["verdict"]["metrics"] if m["status"] != "pass"]
        problems.append(f"{c['method']}: " + ", ".join(f"{m['metric']} {m['status']}{_detail(m)}" for m in bad))
    return {"status": "fail", "recommended": None, "entry_id": None, "headline": "Keep the baseline",
            "why": f"no candidate passed the {use_case} gate — " + "; ".join(problems)}


def _own_row(method: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    timed = next((r for r in records if r.get("latency")), records[0])
    return speed_row(method=method, model=timed["model"], latency=timed.get("latency"),
                     throughput=timed.get("throughput"), memory=timed.get("memory"),
                     hardware=(timed.get("environment") or {}).get("hardware") or {}, source="this pilot")


def _speed_record_row(method: str, speed: dict[str, Any], source: str) -> dict[str, Any]:
    """An efficiency row from a ``kit.speed/1`` record (imported, or a baseline form timed in the pilot)."""
    return speed_row(method=method, model=speed["model"], latency=speed["latency"], throughput=speed["throughput"],
                     memory=speed.get("memory"), hardware=speed["hardware"], source=source)


def _speed_rows(base: list[dict[str, Any]], cands: list[dict[str, Any]],
                speeds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pilot's own rows, then imported speed records of the same artifacts (joined by sha256)."""
    rows = [_own_row("baseline", base)] + [_own_row(c["method"], c["records"]) for c in cands]
    # the baseline's other forms (bf16) timed in the same pilot (kit.govern.pilot_engines)
    rows += [_speed_record_row("baseline", sp, "this pilot") for r in base for sp in r.get(SERVED_FORMS_KEY) or []]
    by_sha = {base[0]["model"].get("sha256"): "baseline"} | {c["records"][0]["model"].get("sha256"): c["method"]
                                                              for c in cands}
    for sp in speeds:
        method = by_sha.get(sp["model"]["sha256"])
        if method is not None:
            rows.append(_speed_record_row(method, sp, f"imported: {sp.get('source') or 'speed record'}"))
    return rows


def build_summary(*, entries: Sequence[Any], use_case: str, default_method: str, assumptions: CostAssumptions,
                  parameters: dict[str, Any], provenance: dict[str, Any] | None = None,
                  price: ServingPrice | None = None, speeds: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The report's content from one pilot's registry entries.

    Args:
        entries: the pilot's entries (see :func:`pilot_entries`).
        use_case: the use case they were gated for.
        default_method: the use case's sanctioned method (preferred when it passes).
        assumptions: the cost model's assumptions.
        parameters: the notebook parameters (secrets removed by the caller).
        provenance: extra provenance (stack versions, git commit, registry location).
        price: the serving price and utilisation of the efficiency section (none: no cost per 1M tokens).
        speeds: imported ``kit.speed/1`` records of the pilot's artifacts (:func:`kit.govern.speed.speeds_for`).
    """
    base, cands = candidates_from_entries(entries)
    wrong = [c["entry_id"] for c in cands if c["verdict"]["use_case"] != use_case]
    if wrong:
        raise KitError(f"entries {', '.join(wrong)} were gated for another use case than {use_case}")
    base_speed = _speed(base) | {"weight_bytes": base[0]["memory"]["weight_bytes"]}
    efficiency = [{"method": "baseline", "bits": None, "entry_id": None, "stored_bytes": base[0]["memory"]["weight_bytes"],
                   "memory_bytes": base[0]["memory"]["weight_bytes"], **_speed(base), "quantize_seconds": None}]
    per_set = [{"method": "baseline"} | {k: summarize(r)[k] for k in ("set", "metric", "value")} for r in base]
    money = {}
    for c in cands:
        speed = _speed(c["records"]) | {"weight_bytes": c["records"][0]["memory"]["weight_bytes"]}
        efficiency.append({"method": c["method"], "bits": c["bits"], "entry_id": c["entry_id"], "stored_bytes": _stored(c),
                           "memory_bytes": speed["weight_bytes"], **_speed(c["records"]),
                           "quantize_seconds": c["config"].get("quantize_seconds")})
        per_set += [{"method": c["method"]} | {k: summarize(r)[k] for k in ("set", "metric", "value")}
                    for r in c["records"]]
        money[c["method"]] = savings(baseline=base_speed, candidate=speed, a=assumptions)
    hw = base[0].get("environment", {}).get("hardware", {})
    first = entries[0]
    decision = _decision(use_case=use_case, default_method=default_method, cands=cands)
    serving = serving_section(rows=_speed_rows(base, cands, speeds), price=price) if price is not None else None
    if serving is not None:
        decision["serving"] = decision_sentence(decision=decision, serving=serving)
    followed = next((e.template_of for e in entries if getattr(e, "template_of", None)), None)
    return {
        **({"template_of": followed} if followed else {}),  # the validated pilot it replayed (kit pilot --like)
        "schema": SCHEMA,
        "kind": "pilot",
        "created_at": (provenance or {}).get("created_at"),
        "model": first.baseline_ref or first.model_ref,
        "use_case": use_case,
        "decision": decision,
        "serving": serving,
        "metrics": [row for c in cands for row in _metric_rows(c)],
        "efficiency": efficiency,
        "per_set": per_set,
        "hardware": {"label": assumptions.hardware, "device": hw.get("device"), "cpu": hw.get("cpu"),
                     "gpu": hw.get("gpu"), "torch_threads": hw.get("torch_threads")},
        "savings": {"assumptions": {k: v for k, v in vars(assumptions).items()}, "assumption_lines": assumptions.lines(),
                    "by_method": money},
        "provenance": {
            "parameters": parameters,
            "entries": [c["entry_id"] for c in cands],
            "baseline": {"ref": first.baseline_ref, "sha256": first.baseline_sha256},
            "config_logs": {c["method"]: {k: v for k, v in c["config"].items() if k != "environment"} for c in cands},
            "pilot_stack": first.stack,
            "pilot_git_commit": base[0].get("environment", {}).get("git_commit"),
            "protocol": base[0].get("protocol"),
            "gated_at": [c["verdict"].get("created_at") for c in cands],
            **(provenance or {}),
        },
    }


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy without the :data:`VOLATILE` paths, for comparing two runs of the same records.

    Args:
        summary: a ``summary.json`` content.
    """
    out = copy.deepcopy(summary)
    for path in VOLATILE:
        head, _, key = path.rpartition(".")
        if head.endswith("[]"):
            for item in out.get(head[:-2], []):
                item.pop(key, None)
        elif head:
            out.get(head, {}).pop(key, None)
        else:
            out.pop(key, None)
    return out
