"""The validation gate: baseline records + candidate records + a use-case policy → a verdict.

Rules: limits are direction-aware allowed degradations; per-item metrics (accuracy,
contains_match) that degrade beyond the limit fail only when an exact McNemar test on the
same items says the change is significant, otherwise they are "within-noise"; a sample
below the policy minimum can never pass; records from different eval-set files, different
protocols or a different baseline are refused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.environment import stack_fingerprint
from kit.errors import KitError
from kit.govern.policy import METRICS, MetricLimit, UseCasePolicy
from kit.eval.stats import discordant, mcnemar_exact, paired_bootstrap_ci

__all__ = ["STATUSES", "VERDICT_SCHEMA", "MetricResult", "Verdict", "gate"]

VERDICT_SCHEMA = "kit.verdict/1"
STATUSES = ("pass", "fail", "within-noise", "insufficient-samples")
_PRIMARY = {"perplexity": ("accuracy", "perplexity", "tokens_scored"), "accuracy": ("accuracy", "accuracy", "items"),
            "contains_match": ("accuracy", "contains_match", "items"), "top1_agreement": ("agreement", "top1", "tokens"),
            "kl_mean": ("agreement", "kl_mean", "tokens")}


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

    @property
    def decision(self) -> str:
        """``pass`` or ``fail``."""
        return "pass" if self.passed else "fail"

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
        head = f"gate {self.use_case}: {self.decision.upper()}  {c['ref']} ({what}) vs baseline {self.baseline['ref']}"
        rows = [{"metric": m.metric, "set": m.eval_set, "value": _fmt(m.value),
                 "baseline": f"ideal {m.baseline:g}" if METRICS[m.metric].ideal is not None else _fmt(m.baseline),
                 "delta": _fmt_delta(m.delta, m.limit_kind), "limit": _fmt_limit(m),
                 "margin": _fmt_delta(m.margin, m.limit_kind), "n": f"{m.samples} {m.sample_unit}",
                 "status": m.status} for m in self.metrics]
        notes = [f"  - {m.metric}: {m.note}" for m in self.metrics if m.note]
        return "\n".join([head, format_table(rows), *notes])


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.3f}"


def _fmt_delta(x: float, kind: str) -> str:
    return f"{x * 100:+.2f}%" if kind == "relative" else f"{x:+.4f}"


def _fmt_limit(m: MetricResult) -> str:
    bound = m.limit if m.direction == "lower" else -m.limit
    return ("≤ " if m.direction == "lower" else "≥ ") + _fmt_delta(bound, m.limit_kind)


def _as_list(records: dict[str, Any] | Sequence[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    records = [records] if isinstance(records, dict) else list(records)
    if not records:
        raise KitError(f"no {role} records given; pass the JSON written by `kit eval --json`")
    for r in records:
        if not isinstance(r, dict) or r.get("schema") != "kit.eval/1":
            raise KitError(f"a {role} record is not a kit.eval/1 harness record; "
                           "pass the JSON written by `kit eval --json`")
    shas = {r["model"].get("sha256") for r in records}
    if len(shas) > 1:
        raise KitError(f"{role} records come from {len(shas)} different models; gate one model at a time")
    return records


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
    section, key, count = _PRIMARY[metric]
    data = record.get(section)
    if not data or data.get(key) is None:
        fix = ("evaluate the candidate with its baseline (`kit eval --baseline ...`)" if section == "agreement"
               else "evaluate it again with `kit eval`")
        raise KitError(f"record for '{record['eval_set']['name']}' has no {metric}; {fix}")
    return float(data[key]), int(data[count])


def _paired(base: dict[str, Any], cand: dict[str, Any], policy: UseCasePolicy) -> dict[str, Any]:
    if base["accuracy"].get("ids") != cand["accuracy"].get("ids"):
        raise KitError(f"'{cand['eval_set']['name']}' records hold different items; re-evaluate both with the same --limit")
    b, c = base["accuracy"]["correct"], cand["accuracy"]["correct"]
    lost, gained = discordant(baseline=b, candidate=c)
    noise = policy.noise
    lo, hi = paired_bootstrap_ci(baseline=b, candidate=c, resamples=noise.bootstrap_resamples,
                                 seed=noise.bootstrap_seed, confidence=noise.confidence)
    return {"test": "exact McNemar (two-sided)", "lost": lost, "gained": gained,
            "p_value": mcnemar_exact(lost=lost, gained=gained), "alpha": noise.alpha,
            "bootstrap_ci": [lo, hi], "confidence": noise.confidence}


def _judge(limit: MetricLimit, base: dict[str, Any], cand: dict[str, Any], policy: UseCasePolicy) -> MetricResult:
    spec = limit.spec
    value, n = _value(cand, limit.metric)
    ref = spec.ideal if spec.ideal is not None else _value(base, limit.metric)[0]
    if limit.limit_kind == "relative" and ref == 0:
        raise KitError(f"baseline {limit.metric} is 0, so a relative limit is undefined; "
                       "use an absolute limit in the policy")
    delta = value - ref if limit.limit_kind == "absolute" else (value - ref) / ref
    degradation = delta if limit.direction == "lower" else -delta
    margin = limit.limit - degradation
    test = _paired(base, cand, policy) if spec.paired else None
    unit = spec.samples
    if n < limit.min_samples:
        status = "insufficient-samples"
        note = f"{n} {unit} < policy minimum {limit.min_samples}; evaluate more (full set, no --limit/--max-tokens)"
    elif margin >= 0:
        status, note = "pass", ""
    elif test is None:
        status = "fail"
        moved = "rose" if limit.direction == "lower" else "fell"
        note = f"{moved} beyond the limit by {_fmt_delta(-margin, limit.limit_kind).lstrip('+')}"
    else:
        significant = test["p_value"] < test["alpha"]
        status = "fail" if significant else "within-noise"
        ci = ", ".join(f"{x:+.3f}" for x in test["bootstrap_ci"])
        note = (f"beyond the limit by {-margin:.4f}; McNemar p={test['p_value']:.3g} (lost {test['lost']}, "
                f"gained {test['gained']}) {'<' if significant else '≥'} alpha {test['alpha']}"
                f"{'' if significant else ', not significant'}; {test['confidence']:.0%} CI of delta [{ci}]")
    return MetricResult(metric=limit.metric, eval_set=limit.eval_set, status=status, value=value, baseline=ref,
                        delta=delta, limit=limit.limit, limit_kind=limit.limit_kind, margin=margin,
                        direction=limit.direction, samples=n, min_samples=limit.min_samples, sample_unit=unit,
                        test=test, note=note)


def gate(
    *,
    baseline: dict[str, Any] | Sequence[dict[str, Any]],
    candidate: dict[str, Any] | Sequence[dict[str, Any]],
    policy: UseCasePolicy,
) -> Verdict:
    """Judge candidate records against baseline records under a use case's tolerances.

    Args:
        baseline: harness records of the full-precision baseline (one per eval set).
        candidate: harness records of the quantized model, same sets and protocols.
        policy: the use case's :class:`~kit.govern.policy.UseCasePolicy`.
    """
    base_recs, cand_recs = _as_list(baseline, "baseline"), _as_list(candidate, "candidate")
    base_model, cand_model = base_recs[0]["model"], cand_recs[0]["model"]
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
        lines.append(_judge(limit, base, cand, policy))
    return Verdict(
        use_case=policy.name,
        passed=all(m.status in ("pass", "within-noise") for m in lines),
        candidate={k: cand_model.get(k) for k in ("ref", "sha256", "method", "bits")},
        baseline={k: base_model.get(k) for k in ("ref", "sha256")},
        metrics=tuple(lines), policy=policy.to_dict(),
        stack=stack_fingerprint(cand_recs[0].get("environment", {})),
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
