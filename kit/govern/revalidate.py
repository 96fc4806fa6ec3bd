"""Re-validation: re-run a registry entry's evaluations with its recorded protocols and engine on the current stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kit.console import progress_default, stage
from kit.engines import DEFAULT_ENGINE, engine_of
from kit.errors import KitError
from kit.eval.harness import Protocol
from kit.govern.gate import gate
from kit.govern.policy import get_policy
from kit.govern.registry import Registry, stack_changes

__all__ = ["compare_verdicts", "protocol_from_record", "revalidate"]

_RANK = {"pass": 0, "within-noise": 1, "inconclusive": 2, "insufficient-samples": 2, "fail": 3}  # within-noise: old verdicts


def protocol_from_record(record: dict[str, Any]) -> Protocol:
    """The :class:`Protocol` that reproduces a record's scoring (and its latency settings).

    Args:
        record: a harness record.
    """
    p, lat = record["protocol"], record.get("latency") or {}
    defaults = Protocol()
    order = p.get("order")  # records before the seeded order: natural order, one segment
    return Protocol(
        order_seed=order["seed"] if isinstance(order, dict) else None,
        looks=tuple(order["looks"]) if isinstance(order, dict) else defaults.looks,
        context_length=p.get("context_length", defaults.context_length), stride=p.get("stride"),
        max_tokens=p.get("max_tokens"), limit=p.get("limit"),
        max_new_tokens=p.get("max_new_tokens", defaults.max_new_tokens),
        chat_template=p.get("chat_template", defaults.chat_template),
        latency_prompt_tokens=lat.get("prompt_tokens", defaults.latency_prompt_tokens),
        latency_new_tokens=lat.get("new_tokens", defaults.latency_new_tokens),
        latency_repeats=lat.get("repeats", defaults.latency_repeats), warmup=lat.get("warmup", defaults.warmup),
    )


def compare_verdicts(*, previous: dict[str, Any], current: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Regressions (a metric's status got worse, or the decision flipped to fail) and all value changes.

    Args:
        previous: the earlier verdict (dict).
        current: the new verdict (dict).
    """
    before = {(m["metric"], m["eval_set"]): m for m in previous["metrics"]}
    regressions, changes = [], []
    if previous["passed"] and not current["passed"]:
        regressions.append("decision pass → fail")
    for m in current["metrics"]:
        old = before.get((m["metric"], m["eval_set"]))
        if old is None:
            changes.append(f"{m['metric']}: new metric, {m['status']} ({m['value']:.4g})")
            continue
        line = f"{m['metric']}: {old['value']:.4g} → {m['value']:.4g}, {old['status']} → {m['status']}"
        changes.append(line)
        if _RANK[m["status"]] > _RANK[old["status"]]:
            regressions.append(line)
    return regressions, changes


def _check_present(ref: str, what: str, entry_id: str) -> None:
    from kit.models import resolve_path

    try:
        resolve_path(ref)
    except KitError as exc:
        raise KitError(f"the {what} of entry {entry_id} is gone ({exc}); restore it or pilot the model again") from None


def _load_checked(ref: str, sha: str | None, what: str, device: str | None, engine: str = DEFAULT_ENGINE) -> Any:
    from kit.models import load_model

    model = load_model(ref, device=device, engine=engine)
    if sha and model.sha256 != sha:
        raise KitError(f"{what} '{ref}' changed since registration (sha256 {str(model.sha256)[:12]} vs recorded "
                       f"{sha[:12]}); restore it or pilot it again")
    return model


def _eval_set(info: dict[str, Any]) -> str:
    from kit.eval.sets import load_set

    ref = info["path"] if Path(info.get("path") or "").is_file() else info["name"]
    if load_set(ref).sha256 != info["sha256"]:
        raise KitError(f"eval set '{info['name']}' changed since registration; revalidation needs the recorded file "
                       f"(sha256 {info['sha256'][:12]})")
    return ref


def revalidate(
    *,
    registry: Registry,
    entry_id: str,
    policies: str | os.PathLike[str] | None = None,
    device: str | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Re-evaluate baseline and candidate, gate them, record a new validation and report regressions.

    Args:
        registry: the open registry.
        entry_id: the entry (id or unique prefix).
        policies: the policy file (default: ``$KIT_POLICIES`` or ``policies/tolerances.yaml``).
        device: ``cpu``/``cuda``; automatic when None.
        progress: progress bars (default: terminal/notebook detection).
    """
    from kit.govern.pilot import evaluate_sets

    progress = progress_default() if progress is None else progress
    entry = registry.get(entry_id)
    previous = registry.validations(entry.id)[-1]
    policy = get_policy(entry.use_case, path=policies)
    for ref, what in ((entry.model_ref, "model"), (entry.baseline_ref, "baseline")):
        _check_present(ref, what, entry.id)
    recorded = entry.evals["candidate"]
    sets = [(_eval_set(r["eval_set"]), protocol_from_record(r)) for r in recorded]
    speed = any(r.get("latency") for r in recorded)
    base = _load_checked(entry.baseline_ref, entry.baseline_sha256, "baseline", device)
    same = entry.model_sha256 == base.sha256
    engine = engine_of(recorded[0]["model"]).name  # the engine the entry was validated on (packed: as it serves)
    cand = base if same else _load_checked(entry.model_ref, entry.model_sha256, "model", base.device, engine)
    cand_records = evaluate_sets(model=cand, baseline=base, sets=sets, measure_speed=speed, progress=progress)
    base_records = cand_records if same else evaluate_sets(model=base, baseline=None, sets=sets, measure_speed=speed,
                                                           progress=progress)
    for old, new in zip(recorded, cand_records):
        if old["protocol"] != new["protocol"]:
            raise KitError(f"the recorded protocol of '{old['eval_set']['name']}' cannot be reproduced by this kit "
                           "version; pilot the model again")
    verdict = gate(baseline=base_records, candidate=cand_records, policy=policy)
    validation = registry.record_validation(entry_id=entry.id, verdict=verdict,
                                            evals={"baseline": base_records, "candidate": cand_records})
    regressions, changes = compare_verdicts(previous=previous.verdict, current=verdict.to_dict())
    result = {
        "entry_id": entry.id, "validation_id": validation.id, "passed": verdict.passed,
        "previous": {"passed": previous.passed, "created_at": previous.created_at, "stack": previous.stack},
        "stack_changes": stack_changes(recorded=previous.stack, current=verdict.stack),
        "policy_changed": previous.verdict.get("policy") != policy.to_dict(),
        "regressions": regressions, "changes": changes, "verdict": verdict.to_dict(),
    }
    stage("revalidate", f"{entry.id} ({entry.method}, {entry.use_case}): {verdict.decision.upper()}; "
          f"{len(regressions)} regression(s); stack changes: {'; '.join(result['stack_changes']) or 'none'}")
    return result
