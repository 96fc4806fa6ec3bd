"""The validation gate: baseline records + candidate records + a use-case policy → a verdict.

Rules: limits are direction-aware allowed degradations, judged on evidence
(:mod:`kit.govern.evidence`): a metric passes only when the one-sided ``1 − alpha`` upper
bound of its degradation is within the limit, fails when the lower bound is beyond it, and
is otherwise ``inconclusive`` (blocks promotion; the line says how many items or tokens
would decide it). A sample below the policy minimum is ``insufficient-samples``; records
from different eval-set files, different protocols or a different baseline are refused.

Engines (:mod:`kit.engines`): the verdict names the candidate's and the baseline's engine. The
sanctioned comparison is the candidate on any engine against the baseline on the ``reference``
engine (is what will serve within tolerance of the trusted reference?); any other pairing, such
as a baseline measured on the packed engine, is refused unless ``allow_cross_engine`` is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.engines import DEFAULT_ENGINE, EngineInfo, engine_of
from kit.environment import stack_fingerprint
from kit.errors import KitError
from kit.eval.record import SCHEMA, EvalRecord
from kit.govern.evidence import paired_evidence, window_evidence
from kit.govern.policy import METRICS, MetricLimit, UseCasePolicy
from kit.govern.sequential import Look, looks_of

__all__ = ["STATUSES", "VERDICT_SCHEMA", "MetricResult", "Verdict", "gate"]

VERDICT_SCHEMA = "kit.verdict/1"
STATUSES = ("pass", "fail", "inconclusive", "insufficient-samples")


@dataclasses.dataclass(frozen=True)
class MetricResult:
    """One metric's line in a verdict."""

    metric: str
    eval_set: str
    status: str
    value: float
    baseline: float
    delta: float  # signed, in limit_kind units: value − baseline, or (value − baseline) / baseline
    limit: float  # allowed degradation
    limit_kind: str
    margin: float  # limit − degradation; negative = beyond the limit
    direction: str
    samples: int
    min_samples: int
    sample_unit: str
    test: dict[str, Any] | None
    note: str
    interval: list[float] | None = None  # one-sided 1 − alpha bounds of delta; None in old verdicts / no data
    mdc: float | None = None  # minimum detectable change (limit units): half the width between the bounds
    needed: int | None = None  # items or tokens that would decide an inconclusive line
    look: int | None = None  # the planned look that decided it (sequential gate), else the last one seen
    looks: int | None = None  # planned looks of the set; None for records without a seeded order
    units: list[int] | None = None  # [seen, in the set]: windows or items at that look


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The gate's decision with one line per metric; ``to_dict`` is JSON-ready."""

    use_case: str
    passed: bool
    candidate: dict[str, Any]
    baseline: dict[str, Any]
    metrics: tuple[MetricResult, ...]
    policy: dict[str, Any]
    stack: dict[str, Any]
    created_at: str
    cross_engine: bool = False  # True: a comparison other than candidate vs reference baseline, allowed on request

    @property
    def decision(self) -> str:
        """``pass`` (every line passed), ``fail`` (a line failed) or ``inconclusive`` (neither: more data decides)."""
        if self.passed:
            return "pass"
        return "fail" if any(m.status == "fail" for m in self.metrics) else "inconclusive"

    def to_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON data."""
        return {"schema": VERDICT_SCHEMA, "decision": self.decision, **dataclasses.asdict(self),
                "metrics": [dataclasses.asdict(m) for m in self.metrics]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Rebuild a verdict from :meth:`to_dict` output.

        Args:
            data: a stored verdict.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in fields}
        return cls(**kwargs | {"metrics": tuple(MetricResult(**m) for m in data["metrics"])})

    def format(self) -> str:
        """A terminal block: the decision, a table of metrics, and notes."""
        from kit.eval.tables import format_table

        c = self.candidate
        what = f"{c.get('method', 'none')}" + (f" {c['bits']}-bit" if c.get("bits") else "")
        head = (f"gate {self.use_case}: {self.decision.upper()}  {c['ref']} ({what}) on {engine_of(c).label()} "
                f"vs baseline {self.baseline['ref']} on {engine_of(self.baseline).label()}"
                + (" (cross-engine comparison, allowed on request)" if self.cross_engine else ""))
        rows = [{"metric": m.metric, "set": m.eval_set, "value": _fmt(m.value),
                 "baseline": f"ideal {m.baseline:g}" if METRICS[m.metric].ideal is not None else _fmt(m.baseline),
                 "delta": _fmt_delta(m.delta, m.limit_kind),
                 "bounds": ("[" + ", ".join(_fmt_delta(x, m.limit_kind) for x in m.interval) + "]"
                            if m.interval else "-"),
                 "limit": _fmt_limit(m), "mdc": _fmt_delta(m.mdc, m.limit_kind).lstrip("+") if m.mdc is not None else "-",
                 "n": f"{m.samples} {m.sample_unit}", "status": m.status} for m in self.metrics]
        notes = [f"  - {m.metric}: {m.note}" for m in self.metrics if m.note]
        return "\n".join([head, format_table(rows), *notes])


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.3f}"


def _fmt_delta(x: float, kind: str) -> str:
    return f"{x * 100:+.2f}%" if kind == "relative" else f"{x:+.4f}"


def _fmt_limit(m: MetricResult) -> str:
    sign, bound = METRICS[m.metric].limit_text(m.limit)
    return sign + _fmt_delta(bound, m.limit_kind)


def _as_list(records: dict[str, Any] | Sequence[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    records = [records] if isinstance(records, (dict, EvalRecord)) else list(records)
    records = [r.to_dict() if isinstance(r, EvalRecord) else r for r in records]
    if not records:
        raise KitError(f"no {role} records given; pass the JSON written by `kit eval --json`")
    for r in records:
        if not isinstance(r, dict) or r.get("schema") != SCHEMA:
            raise KitError(f"a {role} record is not a {SCHEMA} harness record; "
                           "pass the JSON written by `kit eval --json`")
    shas = {r["model"].get("sha256") for r in records}
    if len(shas) > 1:
        raise KitError(f"{role} records come from {len(shas)} different models; gate one model at a time")
    engines = {engine_of(r["model"]) for r in records}
    if len(engines) > 1:
        raise KitError(f"{role} records come from {len(engines)} engines ({', '.join(sorted(e.label() for e in engines))})"
                       f"; evaluate every set of the {role} on one engine")
    return records


def _check_engines(base: EngineInfo, cand: EngineInfo, *, allow_cross_engine: bool) -> bool:
    """Whether the pairing is cross-engine (allowed on request); refuse it otherwise."""
    if base.name == DEFAULT_ENGINE:
        return False  # the sanctioned comparison: candidate on any engine vs the baseline on the reference engine
    if not allow_cross_engine:
        raise KitError(f"the baseline was measured on the {base.label()} engine and the candidate on {cand.label()}; "
                       f"the gate compares against a baseline on the {DEFAULT_ENGINE} engine — re-evaluate the "
                       "baseline with the reference engine, or pass allow_cross_engine=True (--allow-cross-engine)")
    return True


def _by_set(records: list[dict[str, Any]], name: str, role: str) -> dict[str, Any]:
    found = [r for r in records if r["eval_set"]["name"] == Path(name).stem]
    if len(found) != 1:
        why = "no" if not found else f"{len(found)}"
        raise KitError(f"{why} {role} record(s) for eval set '{name}'; "
                       f"give exactly one (`kit eval --eval {name} --json ...`)")
    return found[0]


def _check_comparable(base: dict[str, Any], cand: dict[str, Any], name: str) -> None:
    bs, cs = base["eval_set"]["sha256"], cand["eval_set"]["sha256"]
    if bs != cs:
        raise KitError(f"baseline and candidate were scored on different '{name}' files (sha256 {bs[:12]} vs {cs[:12]}); "
                       "re-evaluate both on the same file")
    bp, cp = base["protocol"], cand["protocol"]
    if bp != cp:
        keys = [k for k in sorted(set(bp) | set(cp)) if bp.get(k) != cp.get(k)]
        diff = ", ".join(f"{k}: {bp.get(k)!r} vs {cp.get(k)!r}" for k in keys)
        raise KitError(f"protocols differ on '{name}' ({diff}); re-evaluate both with the same settings")


def _value(record: dict[str, Any], metric: str) -> tuple[float, int]:
    m = EvalRecord.from_dict(record).metric(metric)  # where each metric lives is defined once, in kit.eval.record
    return m.value, m.samples


def _judge_look(limit: MetricLimit, look: Look, policy: UseCasePolicy, *, sequential: bool) -> MetricResult:
    """One metric at one look: the evidence at the look's level; a pass needs the policy's minimum sample."""
    spec, base, cand = limit.spec, look.base, look.cand
    value, n = _value(cand, limit.metric)
    ref = spec.ideal if spec.ideal is not None else _value(base, limit.metric)[0]
    if limit.limit_kind == "relative" and ref == 0:
        raise KitError(f"baseline {limit.metric} is 0, so a relative limit is undefined; "
                       "use an absolute limit in the policy")
    delta = value - ref if limit.limit_kind == "absolute" else (value - ref) / ref
    degradation = spec.degradation(delta)
    margin = limit.limit - degradation
    if spec.paired:
        ev = paired_evidence(base=base, cand=cand, limit=limit, reference=ref, noise=policy.noise, level=look.level)
    else:
        ev = window_evidence(base=base, cand=cand, limit=limit, delta=delta, tokens=n, noise=policy.noise,
                             level=look.level)
    unit = spec.samples
    status, note = ev.status, ev.note
    if look.stub:  # a one-batch record of a candidate stopped by a fail elsewhere: shown, never decided
        status = "insufficient-samples"
        note = f"one batch ({n} {unit}) scored for the record: evaluation stopped at a fail on another set"
    elif n < limit.min_samples and not (sequential and status == "fail"):  # a sequential fail stands at any look
        status = "insufficient-samples"
        note = f"{n} {unit} < policy minimum {limit.min_samples}; evaluate more (full set, no --limit/--max-tokens)"
    if look.total:
        note = f"look {look.index}/{look.count} ({look.n} of {look.total} {'windows' if unit == 'tokens' else 'items'}"\
               f", level {look.level:.2g}): {note}"
    return MetricResult(metric=limit.metric, eval_set=limit.eval_set, status=status, value=value, baseline=ref,
                        delta=delta, limit=limit.limit, limit_kind=limit.limit_kind, margin=margin,
                        direction=limit.direction, samples=n, min_samples=limit.min_samples, sample_unit=unit,
                        test=ev.test, note=note, interval=list(ev.interval) if ev.interval else None, mdc=ev.mdc,
                        needed=ev.needed if status == "inconclusive" else None,
                        look=look.index if look.total else None, looks=look.count if look.total else None,
                        units=[look.n, look.total] if look.total else None)


def _judge(limit: MetricLimit, base: dict[str, Any], cand: dict[str, Any], policy: UseCasePolicy, *,
           sequential: bool) -> MetricResult:
    """The first look that decides the metric (fail at any look, pass at one meeting min_samples), else the last."""
    line = look = None
    for look in looks_of(base=base, cand=cand, alpha=policy.noise.alpha, sequential=sequential):
        line = _judge_look(limit, look, policy, sequential=sequential)
        if line.status in ("pass", "fail"):
            return line
    assert line is not None and look is not None
    if sequential and look.n < look.total:  # the candidate stopped (another metric failed) before this one decided
        return dataclasses.replace(line, note=f"undecided when evaluation stopped at {look.n} of {look.total}; "
                                              + line.note)
    return line


def _sequential(records: list[dict[str, Any]]) -> bool:
    """Whether the candidate was evaluated look by look (its records say so)."""
    return any((r.get("order") or {}).get("sequential") for r in records)


def gate(
    *,
    baseline: dict[str, Any] | Sequence[dict[str, Any]],
    candidate: dict[str, Any] | Sequence[dict[str, Any]],
    policy: UseCasePolicy,
    allow_cross_engine: bool = False,
    sequential: bool | None = None,
) -> Verdict:
    """Judge candidate records against baseline records under a use case's tolerances.

    Args:
        baseline: harness records of the full-precision baseline (one per eval set).
        candidate: harness records of the quantized model, same sets and protocols (partial records of a
            sequential evaluation pair with the baseline's units by index).
        policy: the use case's :class:`~kit.govern.policy.UseCasePolicy`.
        allow_cross_engine: allow a baseline not measured on the reference engine (the verdict says so).
        sequential: judge at every planned look with alpha spent across them (:mod:`kit.govern.sequential`);
            None: as the candidate's records say (``order.sequential``); records without an order have one look.
    """
    base_recs, cand_recs = _as_list(baseline, "baseline"), _as_list(candidate, "candidate")
    base_model, cand_model = base_recs[0]["model"], cand_recs[0]["model"]
    base_engine, cand_engine = engine_of(base_model), engine_of(cand_model)
    cross = _check_engines(base_engine, cand_engine, allow_cross_engine=allow_cross_engine)
    recorded = (cand_model.get("baseline") or {}).get("sha256")
    if recorded != base_model.get("sha256"):
        raise KitError(f"candidate '{cand_model['ref']}' records baseline sha256 {str(recorded)[:12]}, but the baseline "
                       f"records are of sha256 {str(base_model.get('sha256'))[:12]}; gate against its own baseline")
    lines = []
    for limit in policy.metrics:
        base, cand = _by_set(base_recs, limit.eval_set, "baseline"), _by_set(cand_recs, limit.eval_set, "candidate")
        if cand["eval_set"]["kind"] != limit.spec.kind:
            raise KitError(f"{limit.metric} needs a {limit.spec.kind} set, but '{limit.eval_set}' is "
                           f"{cand['eval_set']['kind']}; fix the policy's eval_set")
        _check_comparable(base, cand, limit.eval_set)
        agreement_ref = (cand.get("baseline") or {}).get("sha256")
        if agreement_ref not in (None, base_model.get("sha256")):
            raise KitError(f"candidate agreement on '{limit.eval_set}' was measured against another model; "
                           "re-evaluate it with --baseline set to the gate's baseline")
        lines.append(_judge(limit, base, cand, policy,
                            sequential=_sequential(cand_recs) if sequential is None else sequential))
    return Verdict(
        use_case=policy.name,
        passed=all(m.status == "pass" for m in lines),
        candidate={k: cand_model.get(k) for k in ("ref", "sha256", "method", "bits")} | {"engine": cand_engine.to_dict()},
        baseline={k: base_model.get(k) for k in ("ref", "sha256")} | {"engine": base_engine.to_dict()},
        metrics=tuple(lines), policy=policy.to_dict(),
        stack=stack_fingerprint(cand_recs[0].get("environment", {}), engine=cand_engine.to_dict()),
        created_at=utc_now(), cross_engine=cross,
    )
