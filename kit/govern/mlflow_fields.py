"""What a registry entry becomes in MLflow: names, params, metrics, tags and artifacts (no MLflow import here).

Each function maps kit data to the plain dicts MLflow's client takes, so the mapping reads in
one place and is tested without a tracking server. :mod:`kit.govern.mlflow_sync` writes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.engines import engine_of
from kit.govern.registry import Entry, Validation, stack_changes

__all__ = ["ENTRY_TAG", "KIND_TAG", "MANAGED_TAG", "STATE_TAG", "VALIDATION_TAG", "alias_name", "base_model_name",
           "desired_aliases", "eligible", "engine_label", "entry_params", "entry_tags", "experiment_name",
           "manifest_sha256", "quantized_model_name", "record_metrics", "run_note", "stack_sha256", "validation_tags",
           "verdict_metrics"]

ENTRY_TAG = "kit.entry_id"  # the key an export is idempotent on
VALIDATION_TAG = "kit.validation_id"
KIND_TAG = "kit.run_kind"  # "entry" (the registration) or "revalidation" (nested under it)
STATE_TAG = "kit.export_state"  # "partial" until every piece of the run is written, then "complete"
MANAGED_TAG = "kit.managed"  # on registered models the kit created; others are never changed
_PARAM_MAX = 6000  # MLflow's limit on a param value


def _name(ref: str | None) -> str:
    """A readable model name from an alias, folder or hub id: its last part, MLflow-safe."""
    text = Path(str(ref or "unknown").rstrip("/")).name or "unknown"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "unknown"


def experiment_name(entry: Entry) -> str:
    """The experiment holding every entry quantized from one base model, e.g. ``kit/smollm2-135m``.

    Args:
        entry: a registry entry.
    """
    return f"kit/{_name(entry.baseline_ref)}"


def base_model_name(entry: Entry) -> str:
    """The registered model of the base (baseline) model.

    Args:
        entry: a registry entry.
    """
    return _name(entry.baseline_ref)


def quantized_model_name(entry: Entry) -> str:
    """The registered model holding one version per quantized artifact of a base model.

    Args:
        entry: a registry entry.
    """
    return f"{_name(entry.baseline_ref)}-quantized"


def alias_name(*, prefix: str, use_case: str) -> str:
    """An MLflow alias for a use case, e.g. ``validated-chat-assistant``.

    Args:
        prefix: ``validated`` or a kit promotion alias such as ``champion``.
        use_case: the policy's use case.
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{prefix}-{use_case}").strip("-").lower()


def eligible(*, latest: Validation, stack: dict[str, Any]) -> bool:
    """Whether an entry earns its ``validated-<use case>`` alias: latest validation passed on this very stack.

    Args:
        latest: the entry's most recent validation.
        stack: the stack fingerprint the export runs against.
    """
    return latest.passed and not stack_changes(recorded=latest.stack, current=stack)


def manifest_sha256(entry: Entry) -> str | None:
    """The hash of the artifact's file manifest (every file's sha256), or the weights hash without one.

    Args:
        entry: a registry entry.
    """
    files = (entry.quant_config or {}).get("files")
    if isinstance(files, dict) and files:
        return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return entry.model_sha256


def stack_sha256(stack: dict[str, Any]) -> str:
    """A short fingerprint of a stack (packages and hardware) for tags and search.

    Args:
        stack: a stack fingerprint.
    """
    return hashlib.sha256(json.dumps(stack, sort_keys=True, default=str).encode()).hexdigest()[:16]


def engine_label(records: list[dict[str, Any]]) -> str:
    """The engine that produced a set of harness records, e.g. ``reference`` or ``packed (torchao, bfloat16)``.

    Args:
        records: harness records (the first one's ``model.engine`` counts; absent: reference).
    """
    return engine_of(records[0].get("model") if records else None).label()


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:_PARAM_MAX]


def entry_params(entry: Entry) -> dict[str, str]:
    """Params of an entry's run: method, bits, group size, scheme, calibration, engine, refs.

    Args:
        entry: a registry entry.
    """
    config = entry.quant_config or {}
    cal = config.get("calibration") or {}
    raw = {
        "method": entry.method, "bits": entry.bits, "group_size": config.get("group_size"),
        "scheme": config.get("scheme"), "calibration.name": cal.get("name"), "calibration.sha256": cal.get("sha256"),
        "calibration.samples": cal.get("samples"), "calibration.seq_len": cal.get("seq_len"),
        "engine": engine_label(entry.evals.get("candidate") or []), "model_ref": entry.model_ref,
        "baseline_ref": entry.baseline_ref, "owner": entry.owner, "volume_per_day": entry.volume_per_day,
        "reason": entry.reason,
    }
    return {k: _param(v) for k, v in raw.items() if v is not None}


def _metric_key(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_./ -]+", "_", ".".join(p for p in parts if p))


def verdict_metrics(verdict: dict[str, Any]) -> dict[str, float]:
    """Each gate line's value, baseline, change, bounds, limit, margin and sample count.

    Args:
        verdict: a verdict as stored (``Verdict.to_dict()``).
    """
    out: dict[str, float] = {}
    for m in verdict.get("metrics", []):
        key = _metric_key(m["eval_set"], m["metric"])
        values = {"value": m.get("value"), "baseline": m.get("baseline"), "change": m.get("delta"),
                  "limit": m.get("limit"), "margin": m.get("margin"), "samples": m.get("samples")}
        if m.get("interval"):
            values |= {"change_lower": m["interval"][0], "change_upper": m["interval"][1]}
        out |= {f"{key}.{name}": float(v) for name, v in values.items() if isinstance(v, int | float)
                and not isinstance(v, bool)}
    return out


def record_metrics(records: list[dict[str, Any]]) -> dict[str, float]:
    """Speed and memory of harness records: latency, tokens/s, resident and weight MiB, per eval set.

    Args:
        records: the candidate's harness records.
    """
    out: dict[str, float] = {}
    for r in records:
        name = (r.get("eval_set") or {}).get("name", "set")
        for section in ("latency", "throughput", "memory"):
            for key, value in (r.get(section) or {}).items():
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                if key.endswith("_bytes"):
                    key, value = key[: -len("_bytes")] + "_mib", value / 2**20
                out[_metric_key(name, section, key)] = float(value)
    return out


def _stack_tags(stack: dict[str, Any]) -> dict[str, str]:
    return {"kit.stack": _param(stack), "kit.stack_sha256": stack_sha256(stack)}


def validation_tags(*, verdict: dict[str, Any], stack: dict[str, Any]) -> dict[str, str]:
    """Decision overall and per metric line, use case, and the stack fingerprint.

    Args:
        verdict: a verdict as stored.
        stack: the stack fingerprint it ran on.
    """
    tags = {"kit.use_case": verdict["use_case"], "kit.decision": verdict.get("decision") or
            ("pass" if verdict["passed"] else "fail")}
    tags |= {f"kit.decision.{_metric_key(m['eval_set'], m['metric'])}": m["status"] for m in verdict.get("metrics", [])}
    return tags | _stack_tags(stack)


def run_note(entry: Entry) -> str:
    """The run's description: what was judged, the decision, and where the evidence is.

    Args:
        entry: a registry entry.
    """
    bits = f" {entry.bits}-bit" if entry.bits else ""
    lines = [f"{entry.method}{bits} of {entry.baseline_ref} for **{entry.use_case}**: "
             f"**{str(entry.verdict.get('decision', '?')).upper()}** (quant-kit registry entry `{entry.id}`)."]
    lines += [f"- {m['eval_set']} {m['metric']}: {m['status']} — {m['note']}" for m in entry.verdict.get("metrics", [])
              if m.get("note")]
    lines.append("Bounds per metric are the `*.change_lower` / `*.change_upper` metrics; the full verdict is "
                 "`kit/verdict.json`, per-item outcomes are in `kit/records/`.")
    return "\n".join(lines)


def entry_tags(entry: Entry) -> dict[str, str]:
    """Tags of an entry's run: its id, kit version, hashes, owner, decision and stack.

    Args:
        entry: a registry entry.
    """
    from kit import __version__

    tags = {ENTRY_TAG: entry.id, KIND_TAG: "entry", "kit.version": __version__,
            "kit.base_sha256": entry.baseline_sha256 or "", "kit.model_sha256": entry.model_sha256 or "",
            "kit.registered_at": entry.created_at, "mlflow.user": entry.owner}
    return tags | validation_tags(verdict=entry.verdict, stack=entry.stack)


def desired_aliases(entries: Sequence[Entry], latest: dict[str, Validation], *,
                    stack: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Registered model → alias → the entry id it should point at (newest eligible entry wins).

    ``validated-<use case>``: the entry's latest validation passed on ``stack``. The kit's own
    promotion aliases (``champion`` …) are mirrored as ``<alias>-<use case>``.

    Args:
        entries: registry entries.
        latest: each entry's latest validation.
        stack: the stack fingerprint the export runs against.
    """
    out: dict[str, dict[str, str]] = {}
    for e in sorted(entries, key=lambda e: (e.created_at, e.id)):
        wanted = out.setdefault(quantized_model_name(e), {})
        if eligible(latest=latest[e.id], stack=stack):
            wanted[alias_name(prefix="validated", use_case=e.use_case)] = e.id
        for alias in e.aliases:
            wanted[alias_name(prefix=alias, use_case=e.use_case)] = e.id
    return out
