"""The pilot flow: baseline → quantize → evaluate → gate → register, one line per stage, then a decision table."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.console import progress_default, stage
from kit.eval.harness import Protocol, evaluate
from kit.eval.tables import summarize
from kit.govern.gate import gate
from kit.govern.policy import UseCasePolicy, get_policy, require_reason
from kit.govern.registry import Registry
from kit.io import runs_dir
from kit.quant.spec import QuantSpec

__all__ = ["decision_table", "evaluate_sets", "run_pilot"]


def evaluate_sets(
    *, model: Any, baseline: Any, sets: Sequence[tuple[str, Protocol]], measure_speed: bool, progress: bool,
) -> list[dict[str, Any]]:
    """Evaluate one loaded model on several sets; latency is measured on the first set only.

    Args:
        model: the loaded model to score.
        baseline: the loaded baseline for agreement on text sets (None for the baseline itself).
        sets: (eval set name or path, protocol) pairs.
        measure_speed: measure latency/throughput (on the first set).
        progress: show progress bars.
    """
    return [evaluate(model=model, eval_set=name, baseline=baseline, protocol=protocol,
                     measure_speed=measure_speed and i == 0, progress=progress)
            for i, (name, protocol) in enumerate(sets)]


def _headline(records: list[dict[str, Any]]) -> str:
    rows = [summarize(r) for r in records]
    return ", ".join(f"{r['set']} {r['metric']} {r['value']}" for r in rows)


def _stored_bytes(candidate: dict[str, Any]) -> int:
    """Bytes of the saved artifact (from its config log), else the in-memory size as evaluated."""
    return int((candidate.get("config") or {}).get("weight_bytes") or candidate["records"][0]["memory"]["weight_bytes"])


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

    rows = [row("baseline", None, baseline, baseline[0]["memory"]["weight_bytes"], "-", None)]
    rows += [row(c["method"], c["verdict"]["candidate"].get("bits"), c["records"], _stored_bytes(c),
                 c["verdict"]["decision"], c.get("entry_id")) for c in candidates]
    return rows


def _decide(policy_default: str, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    passing = [c for c in candidates if c["verdict"]["passed"]]
    if not passing:
        return {"recommended": None, "entry_id": None, "why": "no candidate passed the gate; keep the baseline"}
    default = [c for c in passing if c["method"] == policy_default]
    pick = default[0] if default else min(passing, key=_stored_bytes)
    why = ("the sanctioned default passed" if default
           else "smallest passing candidate (the default did not pass or was not tried)")
    return {"recommended": pick["method"], "entry_id": pick.get("entry_id"), "why": why}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(text).name or text).strip("-") or "model"


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What one pilot run does, fixed (and checked) before any work starts."""

    model: str
    policy: UseCasePolicy
    specs: tuple[QuantSpec, ...]
    reason: str | None
    sets: tuple[tuple[str, Protocol], ...]
    out: Path
    device: str | None
    overwrite: bool
    measure_speed: bool
    progress: bool

    def deviating(self, spec: QuantSpec) -> bool:
        """Whether ``spec`` is not the use case's sanctioned method."""
        return spec.method != self.policy.default_method


def _announce_existing(reg: Registry, model: str) -> None:
    """Say which quantizations of ``model`` the registry already holds (reuse before quantizing again)."""
    for e in reg.find(model):
        stage("registry", f"{model} is already quantized with {e.method}" + (f" {e.bits}-bit" if e.bits else "")
              + f" (entry {e.id}, {e.use_case}, {'passed' if e.passed else 'failed'}, {e.model_ref})")


def _evaluate_baseline(plan: _Plan) -> tuple[Any, list[dict[str, Any]]]:
    """Load the baseline and evaluate it on the use case's sets."""
    from kit.models import load_model

    t0 = time.perf_counter()
    base = load_model(plan.model, device=plan.device)
    records = evaluate_sets(model=base, baseline=None, sets=plan.sets, measure_speed=plan.measure_speed,
                            progress=plan.progress)
    stage("baseline", f"{plan.model}: {_headline(records)} ({time.perf_counter() - t0:.1f} s)")
    return base, records


def _pilot_one(plan: _Plan, spec: QuantSpec, *, base: Any, base_records: list[dict[str, Any]],
               reg: Registry | None, owner: str | None, volume_per_day: int | None) -> dict[str, Any]:
    """Quantize with one spec, evaluate, gate and (optionally) register; return the candidate's result."""
    from kit.quant.quantize import quantize

    method = spec.method
    t0 = time.perf_counter()
    q = quantize(model=plan.model, spec=spec, out=plan.out / method, device=base.device, overwrite=plan.overwrite,
                 progress=plan.progress)
    stage("quantize", f"{method} → {q.path} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    records = evaluate_sets(model=q.model, baseline=base, sets=plan.sets, measure_speed=plan.measure_speed,
                            progress=plan.progress)
    stage("eval", f"{method}: {_headline(records)} ({time.perf_counter() - t0:.1f} s)")
    verdict = gate(baseline=base_records, candidate=records, policy=plan.policy)
    failing = [f"{m.metric} {m.status}" for m in verdict.metrics if m.status != "pass"]
    stage("gate", f"{method}: {verdict.decision.upper()}" + (f" ({', '.join(failing)})" if failing else ""))
    entry_id = None
    if reg is not None:
        entry = reg.add(baseline=base_records, candidate=records, verdict=verdict, quant_config=q.config, owner=owner,
                        volume_per_day=volume_per_day, reason=plan.reason if plan.deviating(spec) else None)
        entry_id = entry.id
        stage("register", f"{method} → entry {entry.id} in {reg.location}")
    return {"method": method, "spec": spec.to_dict(), "path": str(q.path), "config": q.config, "records": records,
            "verdict": verdict.to_dict(), "verdict_text": verdict.format(), "entry_id": entry_id}


def run_pilot(
    *,
    model: str,
    use_case: str,
    candidates: Sequence[QuantSpec | str] | None = None,
    reason: str | None = None,
    protocol: Protocol | None = None,
    owner: str | None = None,
    volume_per_day: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    registry: Registry | str | None = None,
    register: bool = True,
    policies: str | os.PathLike[str] | None = None,
    device: str | None = None,
    measure_speed: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Pilot quantization of ``model`` for ``use_case`` and return a JSON-able result.

    Args:
        model: the baseline (alias or folder).
        use_case: a use case of the policy file.
        candidates: what to try, as :class:`~kit.quant.spec.QuantSpec` s or bare method names
            (default: the use case's sanctioned method with default settings).
        reason: why, when trying anything other than the sanctioned method (required then).
        protocol: evaluation sizes and settings (``Protocol(max_tokens=..., limit=...)`` for quick runs;
            quick runs may fall below policy minimums); the whole sets when None.
        owner: entry owner (default ``$USER``).
        volume_per_day: expected inference requests per day.
        out_dir: artifact folder, one subfolder per method (default ``runs/pilot-<model>-<use case>-<time>``).
        overwrite: replace existing artifacts (an entry pointing at a replaced one fails revalidation).
        registry: a Registry, a path/URL, or None for the default registry.
        register: add each gated candidate to the registry.
        policies: the policy file (default: ``$KIT_POLICIES`` or ``policies/tolerances.yaml``).
        device: ``cpu``/``cuda``; automatic when None.
        measure_speed: measure latency/throughput on the first set.
        progress: progress bars (default: terminal/notebook detection).
    """
    started = time.perf_counter()
    policy = get_policy(use_case, path=policies)
    specs = tuple(QuantSpec.of(c) for c in (candidates or [policy.default_method]))
    methods = [s.method for s in specs]
    require_reason(policy=policy, methods=methods, reason=reason)  # before any work
    protocol = protocol or Protocol()
    plan = _Plan(model=model, policy=policy, specs=specs, reason=reason,
                 sets=tuple((name, protocol) for name in policy.eval_sets),
                 out=Path(out_dir or runs_dir() / f"pilot-{_slug(model)}-{use_case}-{time.strftime('%Y%m%d-%H%M%S')}"
                          ).resolve(),
                 device=device, overwrite=overwrite, measure_speed=measure_speed,
                 progress=progress_default() if progress is None else progress)
    extra = f" (reason: {reason})" if any(plan.deviating(s) for s in specs) else ""
    stage("pilot", f"{model} for {use_case}: sanctioned {policy.default_method}; trying {', '.join(methods)}{extra}")

    reg = None if not register else registry if isinstance(registry, Registry) else Registry.open(registry)
    try:
        if reg is not None:
            _announce_existing(reg, model)
        base, base_records = _evaluate_baseline(plan)
        results = [_pilot_one(plan, spec, base=base, base_records=base_records, reg=reg, owner=owner,
                              volume_per_day=volume_per_day) for spec in specs]
    finally:
        if reg is not None and reg is not registry:
            reg.close()
    return {
        "model": model, "use_case": use_case, "policy": policy.to_dict(), "methods": methods, "reason": reason,
        "protocol": {"max_tokens": protocol.max_tokens, "limit": protocol.limit},
        "specs": [s.to_dict() for s in specs], "out_dir": str(plan.out), "baseline": {"records": base_records},
        "candidates": results, "table": decision_table(baseline=base_records, candidates=results),
        "decision": _decide(policy.default_method, results), "seconds": round(time.perf_counter() - started, 1),
    }
