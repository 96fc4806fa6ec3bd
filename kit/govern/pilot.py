"""The pilot flow: baseline → quantize → evaluate → gate → register, one line per stage, then a decision table."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.console import progress_default, stage
from kit.govern.gate import gate
from kit.eval.harness import Protocol, evaluate
from kit.io import runs_dir
from kit.govern.policy import get_policy, require_reason
from kit.govern.registry import Registry
from kit.eval.tables import summarize

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


def run_pilot(
    *,
    model: str,
    use_case: str,
    methods: Sequence[str] | None = None,
    reason: str | None = None,
    owner: str | None = None,
    volume_per_day: int | None = None,
    samples: int = 64,
    seq_len: int = 256,
    max_tokens: int | None = None,
    limit: int | None = None,
    bits: int | None = None,
    group_size: int | None = None,
    calibration: str = "stdlib-docs-calib",
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
        methods: methods to try (default: the use case's sanctioned method).
        reason: why, when trying anything other than the sanctioned method (required then).
        owner: entry owner (default ``$USER``).
        volume_per_day: expected inference requests per day.
        samples: calibration samples for GPTQ/AWQ.
        seq_len: calibration sequence length.
        max_tokens: text sets: score only the first N tokens (quick runs; may fall below policy minimums).
        limit: MC/generation sets: first N items (quick runs).
        bits: weight bits (method default when None).
        group_size: group size (method default when None).
        calibration: calibration set name or path.
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
    methods = list(methods or [policy.default_method])
    require_reason(policy=policy, methods=methods, reason=reason)  # before any work
    from kit.models import load_model
    from kit.quant.quantize import quantize

    progress = progress_default() if progress is None else progress
    protocol = Protocol(max_tokens=max_tokens, limit=limit)
    sets = [(name, protocol) for name in policy.eval_sets]
    out = Path(out_dir or runs_dir() / f"pilot-{_slug(model)}-{use_case}-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    extra = f" (reason: {reason})" if any(m != policy.default_method for m in methods) else ""
    stage("pilot", f"{model} for {use_case}: sanctioned {policy.default_method}; trying {', '.join(methods)}{extra}")

    reg = None if not register else registry if isinstance(registry, Registry) else Registry.open(registry)
    try:
        if reg is not None:
            for e in reg.find(model):
                stage("registry", f"{model} is already quantized with {e.method}"
                      + (f" {e.bits}-bit" if e.bits else "") + f" (entry {e.id}, {e.use_case}, "
                      f"{'passed' if e.passed else 'failed'}, {e.model_ref})")
        t0 = time.perf_counter()
        base = load_model(model, device=device)
        base_records = evaluate_sets(model=base, baseline=None, sets=sets, measure_speed=measure_speed, progress=progress)
        stage("baseline", f"{model}: {_headline(base_records)} ({time.perf_counter() - t0:.1f} s)")
        candidates = []
        for method in methods:
            t0 = time.perf_counter()
            q = quantize(model=model, method=method, out=out / method, bits=bits, group_size=group_size,
                         calibration=calibration, samples=samples, seq_len=seq_len, device=base.device,
                         overwrite=overwrite, progress=progress)
            stage("quantize", f"{method} → {q.path} ({time.perf_counter() - t0:.1f} s)")
            t0 = time.perf_counter()
            records = evaluate_sets(model=q.model, baseline=base, sets=sets, measure_speed=measure_speed, progress=progress)
            stage("eval", f"{method}: {_headline(records)} ({time.perf_counter() - t0:.1f} s)")
            verdict = gate(baseline=base_records, candidate=records, policy=policy)
            failing = [f"{m.metric} {m.status}" for m in verdict.metrics if m.status != "pass"]
            stage("gate", f"{method}: {verdict.decision.upper()}" + (f" ({', '.join(failing)})" if failing else ""))
            entry_id = None
            if reg is not None:
                entry = reg.add(baseline=base_records, candidate=records, verdict=verdict, quant_config=q.config,
                                owner=owner, volume_per_day=volume_per_day,
                                reason=reason if method != policy.default_method else None)
                entry_id = entry.id
                stage("register", f"{method} → entry {entry.id} in {reg.location}")
            candidates.append({"method": method, "path": str(q.path), "config": q.config, "records": records,
                               "verdict": verdict.to_dict(), "verdict_text": verdict.format(), "entry_id": entry_id})
            del q
    finally:
        if reg is not None and reg is not registry:
            reg.close()
    decision = _decide(policy.default_method, candidates)
    return {
        "model": model, "use_case": use_case, "policy": policy.to_dict(), "methods": methods, "reason": reason,
        "protocol": {"max_tokens": max_tokens, "limit": limit, "samples": samples, "seq_len": seq_len},
        "out_dir": str(out), "baseline": {"records": base_records}, "candidates": candidates,
        "table": decision_table(baseline=base_records, candidates=candidates), "decision": decision,
        "seconds": round(time.perf_counter() - started, 1),
    }
