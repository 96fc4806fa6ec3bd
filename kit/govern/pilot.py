"""The pilot flow: load → quantize → evaluate → gate → register, one timed line per stage, then a decision table.

The baseline's records come from a cache when this model was piloted before on the same sets,
protocol and stack (:mod:`kit.eval.cache`); all candidates are evaluated together, sharing one
baseline pass per window batch for agreement. By default they are evaluated look by look
(:mod:`kit.govern.pilot_looks`): a candidate stops as soon as the gate has decided it, and each
result says what fraction of each set it used and why it stopped; ``full=True`` scores
everything (same order and batches) and gates with the single fixed-sample test. The result's ``timings`` hold every stage, the
floor (quantizations + one forward pass of each model over each set) and wall / floor.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from kit.clock import folder_stamp
from kit.console import progress_default, stage
from kit.errors import KitError
from kit.eval.cache import RecordCache, baseline_keys
from kit.eval.harness import Protocol, evaluate, evaluate_many
from kit.eval.record import as_record
from kit.govern.gate import gate
from kit.govern.pilot_engines import attach_served_forms, measure_served_forms, serving_models
from kit.govern.pilot_looks import evaluate_looks, stop_line
from kit.govern.pilot_plan import PilotOptions, Plan
from kit.govern.pilot_results import decide, decision_table, floor_seconds, headline, scored_line
from kit.govern.policy import get_policy, require_reason
from kit.govern.registry import Registry
from kit.govern.serving_defaults import describe, serving_default, serving_target
from kit.govern.shapes import PilotResult
from kit.govern.template import template_plan, validated_template, warn_unreviewed
from kit.io import runs_dir
from kit.quant.spec import QuantSpec

__all__ = ["PilotOptions", "decision_table", "evaluate_sets", "floor_seconds", "run_pilot"]


def evaluate_sets(
    *, model: Any, baseline: Any, sets: Sequence[tuple[str, Protocol]], measure_speed: bool, progress: bool,
    cache: RecordCache | bool | None = None,
) -> list[dict[str, Any]]:
    """Evaluate one loaded model on several sets; latency is measured on the first set only.

    Args:
        model: the loaded model to score.
        baseline: the loaded baseline for agreement on text sets (None for the baseline itself).
        sets: (eval set name or path, protocol) pairs.
        measure_speed: measure latency/throughput (on the first set).
        progress: show progress bars.
        cache: for a baseline (``baseline`` None): read and write its records in the baseline-record cache
            (True or None: the default cache; False: never), so a later pilot on the same sets reuses them.
    """
    store = (None if cache is False or baseline is not None
             else cache if isinstance(cache, RecordCache) else RecordCache())
    keys = (baseline_keys(model=model, sets=sets, measure_speed=measure_speed) if store is not None
            else [None] * len(sets))
    records = []
    for i, ((name, protocol), key) in enumerate(zip(sets, keys)):
        hit = store.get(key) if store is not None and key is not None else None
        if hit is None:
            hit = evaluate(model=model, eval_set=name, baseline=baseline, protocol=protocol,
                           measure_speed=measure_speed and i == 0, progress=progress)
            if store is not None and key is not None:
                store.put(key, hit)
        records.append(hit)
    return records


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(text).name or text).strip("-") or "model"


def _announce_existing(reg: Registry, model: str) -> None:
    """Say which quantizations of ``model`` the registry already holds (reuse before quantizing again)."""
    for e in reg.find(model):
        stage("registry", f"{model} is already quantized with {e.method}" + (f" {e.bits}-bit" if e.bits else "")
              + f" (entry {e.id}, {e.use_case}, {'passed' if e.passed else 'failed'}, {e.model_ref})")


def _evaluate_together(plan: Plan, *, base: Any, models: list[Any], cached: list[dict[str, Any] | None],
                       ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Each set once: every candidate (and the baseline where not cached) sharing one baseline pass.

    Returns:
        (the baseline's records, one record list per candidate), in set order.
    """
    base_records: list[dict[str, Any]] = []
    cand_records: list[list[dict[str, Any]]] = [[] for _ in models]
    for i, ((name, protocol), hit) in enumerate(zip(plan.sets, cached)):
        members = models + ([base] if hit is None else [])
        records = evaluate_many(models=members, eval_set=name, baseline=base, protocol=protocol,
                                measure_speed=plan.measure_speed and i == 0, progress=plan.progress)
        for mine, record in zip(cand_records, records):
            mine.append(record)
        base_records.append(hit if hit is not None else records[-1])
    return base_records, cand_records


def _gate_and_register(plan: Plan, spec: QuantSpec, q: Any, records: list[dict[str, Any]], *,
                       base_records: list[dict[str, Any]], reg: Registry | None, owner: str | None,
                       volume_per_day: int | None, seconds: dict[str, float]) -> dict[str, Any]:
    """Gate one evaluated candidate and (optionally) register it; return the candidate's result."""
    method = spec.method
    t0 = time.perf_counter()
    verdict = gate(baseline=base_records, candidate=records, policy=plan.policy)
    seconds["gate"] = round(time.perf_counter() - t0, 3)
    failing = [f"{m.metric} {m.status}" for m in verdict.metrics if m.status != "pass"]
    stage("gate", f"{method}: {verdict.decision.upper()}" + (f" ({', '.join(failing)})" if failing else "")
          + f" ({seconds['gate']:.1f} s)")
    entry_id = None
    if reg is not None:
        t0 = time.perf_counter()
        entry = reg.add(baseline=base_records, candidate=records, verdict=verdict, quant_config=q.config, owner=owner,
                        volume_per_day=volume_per_day, reason=plan.reason if plan.deviating(spec) else None)
        entry_id = entry.id
        from kit.govern.mlflow_sync import mirror_if_configured  # $KIT_MLFLOW_URI: mirror as it registers
        mirror_if_configured(registry=reg, entry_ids=[entry.id], stack=verdict.stack)
        seconds["register"] = round(time.perf_counter() - t0, 3)
        stage("register", f"{method} → entry {entry.id} in {reg.location} ({seconds['register']:.1f} s)")
    return {"method": method, "spec": spec.to_dict(), "path": str(q.path), "config": q.config, "records": records,
            "verdict": verdict.to_dict(), "verdict_text": verdict.format(), "entry_id": entry_id, "seconds": seconds}


def _run_stages(plan: Plan, *, cache: Any, reg: Registry | None, owner: str | None,
                volume_per_day: int | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Load → quantize all → evaluate together → gate → register, timing each stage."""
    from kit.models import load_model
    from kit.quant.quantize import quantize

    timings: dict[str, Any] = {}
    t0 = time.perf_counter()
    base = load_model(plan.model, device=plan.device)
    timings["load_s"] = round(time.perf_counter() - t0, 3)
    keys = (baseline_keys(model=base, sets=plan.sets, measure_speed=plan.measure_speed) if cache is not None
            else [None] * len(plan.sets))
    cached = [cache.get(k) if k is not None else None for k in keys]
    stage("load", f"{plan.model} ({timings['load_s']:.1f} s); baseline records cached for "
          f"{sum(c is not None for c in cached)}/{len(cached)} set(s)")
    quantized, q_seconds = [], []
    for spec in plan.specs:
        t0 = time.perf_counter()
        quantized.append(quantize(model=plan.model, spec=spec, out=plan.out / spec.method, device=base.device,
                                  overwrite=plan.overwrite, progress=plan.progress))
        q_seconds.append(round(time.perf_counter() - t0, 3))
        stage("quantize", f"{spec.method} → {quantized[-1].path} ({q_seconds[-1]:.1f} s)")
    models = serving_models(quantized=quantized, methods=[s.method for s in plan.specs], engine=plan.engine)
    t0 = time.perf_counter()
    if plan.full:
        base_records, cand_records = _evaluate_together(plan, base=base, models=models, cached=cached)
        evaluation = [{"sets": {name: scored_line(r) for (name, _), r in zip(plan.sets, recs)},
                       "stopped": "full evaluation (--full)"} for recs in cand_records]
    else:
        base_records, progress, timings["looks"] = evaluate_looks(
            sets=plan.sets, policy=plan.policy, base=base, models=models,
            methods=[s.method for s in plan.specs], cached=cached, measure_speed=plan.measure_speed,
            progress=plan.progress)
        cand_records = [list(p.records) for p in progress]
        evaluation = [p.summary([name for name, _ in plan.sets]) for p in progress]
    timings["evaluate_s"] = round(time.perf_counter() - t0, 3)
    for key, hit, record in zip(keys, cached, base_records):
        order = as_record(record).extra.get("order") or {}
        if key is not None and hit is None and order.get("scored", 0) == order.get("total", 0):
            cache.put(key, record)  # only whole records: a baseline scored alongside may have stopped early
    if plan.measure_speed:
        t0 = time.perf_counter()
        forms = measure_served_forms(model=plan.model, candidates=models, protocol=plan.sets[0][1], device=base.device)
        base_records = attach_served_forms(base_records, forms)
        timings["served_forms_s"] = round(time.perf_counter() - t0, 3)
    source = "cached" if all(c is not None for c in cached) else "evaluated"
    stage("baseline", f"{plan.model}: {headline(base_records)} ({source})")
    for spec, records in zip(plan.specs, cand_records):
        stage("eval", f"{spec.method}: {headline(records)} "
                      f"({sum(r['seconds']['scoring'] for r in records):.1f} s own forward passes)")
    stage("evaluate", f"{len(plan.specs)} candidate(s) on {len(plan.sets)} set(s), one shared baseline pass "
                      f"({timings['evaluate_s']:.1f} s)")
    for spec, ev in zip(plan.specs, evaluation):
        stage("scored", stop_line(spec.method, ev))
    results = [_gate_and_register(plan, spec, q, records, base_records=base_records, reg=reg, owner=owner,
                                  volume_per_day=volume_per_day, seconds={"quantize": qs})
               | {"evaluation": ev, "scored": stop_line(spec.method, ev)}
               for spec, q, records, qs, ev in zip(plan.specs, quantized, cand_records, q_seconds, evaluation)]
    timings["quantize_s"] = {s.method: qs for s, qs in zip(plan.specs, q_seconds)}
    timings["gate_s"] = round(sum(r["seconds"]["gate"] for r in results), 3)
    timings["register_s"] = round(sum(r["seconds"].get("register", 0.0) for r in results), 3)
    timings["floor"] = floor_seconds(quantize=q_seconds, baseline=[None if c is not None else r
                                                                   for c, r in zip(cached, base_records)],
                                     candidates=cand_records)
    timings["baseline_cached"] = [c is not None for c in cached]
    return base_records, results, timings


def run_pilot(
    *,
    model: str,
    use_case: str | None = None,
    candidates: Sequence[QuantSpec | str] | None = None,
    reason: str | None = None,
    owner: str | None = None,
    volume_per_day: int | None = None,
    registry: Registry | str | None = None,
    register: bool = True,
    policies: str | os.PathLike[str] | None = None,
    like: str | None = None,
    options: PilotOptions | None = None,
    **knobs: Any,
) -> PilotResult:
    """Pilot quantization of ``model`` for ``use_case`` and return a JSON-able result.

    Args:
        model: the baseline (alias or folder).
        use_case: a use case of the policy file (the template's with ``like``).
        candidates: what to try, as :class:`~kit.quant.spec.QuantSpec` s or bare method names
            (default: the use case's sanctioned method with default settings).
        reason: why, when trying anything other than the sanctioned method (required then).
        owner: entry owner (default ``$USER``).
        volume_per_day: expected inference requests per day.
        registry: a Registry, a path/URL, or None for the default registry.
        register: add each gated candidate to the registry.
        policies: the policy file (default: ``$KIT_POLICIES`` or ``policies/tolerances.yaml``).
        like: a validated registry entry whose recipe to replay on ``model`` (``kit pilot --like``).
        options: the run knobs (:class:`PilotOptions`); defaults when None.
        **knobs: any :class:`PilotOptions` field by name (``protocol=``, ``full=``, ``measure_speed=``,
            ``progress=``, ``device=``, ``cache=``, ``overwrite=``, ``out_dir=``, ``engine=``), overriding ``options``.
    """
    opts = dataclasses.replace(options or PilotOptions(), **knobs)  # an unknown name is a TypeError, as before
    protocol, device, cache = opts.protocol, opts.device, opts.cache
    started = time.perf_counter()
    template = validated_template(entry_id=like, registry=registry) if like else None  # before any work
    if template is not None:
        use_case, candidates, reason = template_plan(entry=template, use_case=use_case, candidates=candidates,
                                                     reason=reason)
    if use_case is None:
        raise KitError("the pilot needs a use case: pass --use-case, or --like ENTRY_ID to replay a validated pilot")
    policy = get_policy(use_case, path=policies)
    specs = tuple(QuantSpec.of(c) for c in (candidates or [policy.default_method]))
    methods = [s.method for s in specs]
    require_reason(policy=policy, methods=methods, reason=reason)  # before any work
    protocol = protocol or Protocol()
    plan = Plan(model=model, policy=policy, specs=specs, reason=reason,
                 sets=tuple((name, protocol) for name in policy.eval_sets),
                 out=Path(opts.out_dir or runs_dir() / f"pilot-{_slug(model)}-{use_case}-{folder_stamp()}"
                          ).resolve(),
                 device=device, overwrite=opts.overwrite, measure_speed=opts.measure_speed,
                 progress=progress_default() if opts.progress is None else opts.progress, full=opts.full,
                 engine=opts.engine)
    extra = f" (reason: {reason})" if any(plan.deviating(s) for s in specs) else ""
    stage("pilot", f"{model} for {use_case}: sanctioned {policy.default_method}; trying {', '.join(methods)}{extra}")
    serving = serving_default(policy, serving_target(device))  # which target's default applies here, and why
    stage("serving", describe(serving))
    if template is not None:
        stage("template", f"replaying entry {template.id}'s recipe ({template.method} for {use_case}, validated on "
                          f"{template.baseline_ref}); each entry records template_of {template.id}")
    warn_unreviewed(policy=policy, model=model)

    reg = None if not register else registry if isinstance(registry, Registry) else Registry.open(registry)
    try:
        if reg is not None:
            _announce_existing(reg, model)
        store = (None if cache is False else cache if isinstance(cache, RecordCache)
                 else RecordCache(None if cache is None or cache is True else cache))
        base_records, results, timings = _run_stages(plan, cache=store, reg=reg, owner=owner,
                                                     volume_per_day=volume_per_day)
    finally:
        if reg is not None and reg is not registry:
            reg.close()
    wall = time.perf_counter() - started
    f = timings["floor"]
    stage("floor", f"wall {wall:.1f} s vs floor {f['floor_s']:.1f} s (quantize {f['quantize_s']:.1f} + forward "
          f"{f['forward_s']:.1f}): {wall / f['floor_s'] if f['floor_s'] > 0 else float('nan'):.2f}×")
    return cast(PilotResult, {
        "model": model, "use_case": use_case, "policy": policy.to_dict(), "methods": methods, "reason": reason,
        "protocol": {"max_tokens": protocol.max_tokens, "limit": protocol.limit},
        "specs": [s.to_dict() for s in specs], "template_of": template.id if template else None,
        "out_dir": str(plan.out), "baseline": {"records": base_records},
        "candidates": results, "table": decision_table(baseline=base_records, candidates=results),
        "decision": decide(policy.default_method, results), "seconds": round(wall, 1),
        "serving_default": dataclasses.asdict(serving),
        "timings": timings | {"wall_s": round(wall, 3),
                              "wall_over_floor": round(wall / timings["floor"]["floor_s"], 3)
                              if timings["floor"]["floor_s"] > 0 else None},
    })
