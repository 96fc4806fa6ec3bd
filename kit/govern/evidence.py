"""The gate's evidence for one metric: bounds of the change, the decision they support, and what would decide it.

Every metric is judged on one-sided ``1 − alpha`` bounds of its **degradation** (the change
in the worse direction, in the limit's units):

- ``pass`` — the upper bound is within the limit: the data show the candidate is at most
  that much worse (a non-inferiority test at level ``alpha``);
- ``fail`` — the lower bound is beyond the limit: the data show it is worse than allowed;
- ``inconclusive`` — the bounds straddle the limit; :attr:`Evidence.needed` says how many
  items (or tokens) would decide it at the observed spread.

Per-item metrics use paired score bounds (:func:`kit.eval.stats.paired_bounds`); token
metrics Student-t bounds from per-window influence values (:func:`kit.eval.stats.linearized_bounds`)
for records scored in the seeded order, and the seeded bootstrap over windows
(:func:`kit.eval.stats.bootstrap_bounds`) for older records, as before; both need the
per-window sums the harness records. ``level`` (default: the policy's alpha) is the one-sided
level of the bounds; a look of the sequential plan passes a smaller one
(:mod:`kit.govern.sequential`). The **minimum detectable change**
(``mdc``) is half the distance between the two bounds (≈ z × standard error): a
degradation at least that far from the limit is decided.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kit.errors import KitError
from kit.eval.ordering import unit_index
from kit.eval.record import as_record
from kit.eval.stats import (
    bootstrap_bounds,
    discordant,
    items_needed,
    linearized_bounds,
    mcnemar_exact,
    paired_bounds,
    paired_z,
    z_for,
)
from kit.govern.policy import MetricLimit, NoisePolicy

__all__ = ["Evidence", "decide", "paired_evidence", "window_evidence"]


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Bounds of a metric's change and the status they support."""

    status: str  # "pass", "fail" or "inconclusive"
    interval: tuple[float, float] | None  # one-sided 1 − alpha bounds of delta (value − reference), limit units
    mdc: float | None  # minimum detectable change, limit units
    needed: int | None  # samples (items or tokens) that would decide an inconclusive line
    test: dict[str, Any]
    note: str


def decide(*, degradation: tuple[float, float], limit: float) -> str:
    """``pass`` if the upper bound is within ``limit``, ``fail`` if the lower bound is beyond it, else ``inconclusive``.

    Args:
        degradation: (lower, upper) one-sided bounds of the degradation.
        limit: the allowed degradation.
    """
    lo, hi = degradation
    return "pass" if hi <= limit else "fail" if lo > limit else "inconclusive"


def _note(status: str, bounds: tuple[float, float], limit: float, alpha: float, fmt: str) -> str:
    lo, hi = (format(b, fmt) for b in bounds)
    level = f"{(1 - alpha) * 100:.4g} %"
    if status == "pass":
        return f"within the limit: {level} upper bound of the degradation {hi} ≤ {format(limit, fmt)}"
    if status == "fail":
        return f"beyond the limit: {level} lower bound of the degradation {lo} > {format(limit, fmt)}"
    return f"cannot tell: degradation between {lo} and {hi} ({level} bounds) straddles the limit {format(limit, fmt)}"


def paired_evidence(*, base: dict[str, Any], cand: dict[str, Any], limit: MetricLimit, reference: float,
                    noise: NoisePolicy, level: float | None = None) -> Evidence:
    """Paired non-inferiority on 0/1 items: Tango score bounds of ``(lost − gained) / n``.

    Args:
        base: the baseline's record (``accuracy.correct`` and ``ids``).
        cand: the candidate's record on the same items.
        limit: the metric's limit.
        reference: the baseline value (scales a relative limit).
        noise: the policy's alpha.
        level: the one-sided level of the bounds (default ``noise.alpha``).
    """
    b, c = as_record(base).accuracy, as_record(cand).accuracy
    if b.get("ids") != c.get("ids"):
        raise KitError(f"'{as_record(cand).set_name}' records hold different items; re-evaluate both with the same --limit")
    lost, gained = discordant(baseline=b["correct"], candidate=c["correct"])
    n, alpha = len(b["correct"]), noise.alpha if level is None else level
    scale = 1.0 if limit.limit_kind == "absolute" else reference  # limit units → fraction of items
    lo, hi = paired_bounds(lost=lost, gained=gained, n=n, alpha=alpha)
    z_at_limit = paired_z(lost=lost, gained=gained, n=n, delta=limit.limit * scale)
    z = z_for(alpha)
    status = "pass" if z_at_limit <= -z else "fail" if z_at_limit > z else "inconclusive"
    needed = None
    if status == "inconclusive":
        needed = items_needed(lost=lost, gained=gained, n=n, limit=limit.limit * scale, alpha=alpha)
    bounds = (lo / scale, hi / scale)
    fmt = "+.4f" if limit.limit_kind == "absolute" else "+.2%"
    note = _note(status, bounds, limit.limit, alpha, fmt) + f" (lost {lost}, gained {gained} of {n})"
    if status == "inconclusive":
        note += (f"; about {needed} items would decide it at this discordance" if needed
                 else "; the observed change sits on the limit")
    test = {"test": "paired non-inferiority (Tango score bounds, one-sided)", "lost": lost, "gained": gained,
            "alpha": alpha, "z_at_limit": z_at_limit if math.isfinite(z_at_limit) else None,  # JSON has no inf
            "p_value_any_change": mcnemar_exact(lost=lost, gained=gained)}
    return Evidence(status=status, interval=limit.spec.degradation_bounds(*bounds), mdc=(hi - lo) / 2 / scale,
                    needed=needed, test=test, note=note)


def _windows(record: dict[str, Any], section: str, keys: tuple[str, ...]) -> dict[str, list[float]] | None:
    """The record's per-window sums under ``section``, or None unless every key holds a list of one length."""
    w = (getattr(as_record(record), section) or {}).get("per_window")
    if not isinstance(w, dict) or not all(isinstance(w.get(k), list) for k in keys):
        return None
    return w if len({len(w[k]) for k in keys}) == 1 else None


def _statistic(metric: str, kind: str):
    """Column sums of a resample → the signed change (value − reference) of ``metric``."""
    import numpy as np

    if metric == "perplexity":
        if kind == "relative":
            return lambda s: np.expm1((s["cand_nll"] - s["base_nll"]) / s["tokens"])
        return lambda s: np.exp(s["cand_nll"] / s["tokens"]) - np.exp(s["base_nll"] / s["tokens"])
    if metric == "top1_agreement":
        return lambda s: s["top1"] / s["tokens"] - 1.0
    return lambda s: s["kl"] / s["tokens"]  # kl_mean − 0


def _influence(metric: str, kind: str, columns: dict[str, list[float]]) -> tuple[float, list[float], Any]:
    """The statistic's estimate on the ratio scale, each window's influence value, and the map to the signed change."""
    n = columns["tokens"]
    mean_n = sum(n) / len(n)
    if metric != "perplexity":
        num = columns["top1"] if metric == "top1_agreement" else columns["kl"]
        r = sum(num) / sum(n)
        shift = -1.0 if metric == "top1_agreement" else 0.0
        return r, [(a - r * t) / mean_n for a, t in zip(num, n)], lambda x: x + shift
    b, c = columns["base_nll"], columns["cand_nll"]
    if kind == "relative":  # D = mean NLL change per token; the change is expm1(D)
        d = (sum(c) - sum(b)) / sum(n)
        return d, [((ci - bi) - d * t) / mean_n for bi, ci, t in zip(b, c, n)], math.expm1
    eb, ec = math.exp(sum(b) / sum(n)), math.exp(sum(c) / sum(n))
    rb, rc = sum(b) / sum(n), sum(c) / sum(n)
    u = [(ec * (ci - rc * t) - eb * (bi - rb * t)) / mean_n for bi, ci, t in zip(b, c, n)]
    return ec - eb, u, lambda x: x


def _kl_bounds(est: float, infl: list[float], columns: dict[str, list[float]], level: float
               ) -> tuple[float, float] | None:
    """KL is positive and right-skewed across windows: the more cautious of two log-scale bounds on each side.

    (a) the delta method on log(mean KL) with its bias term ``CV²/(2m)``; (b) Cox's log-normal
    interval on the per-window means (token-weighted). Each alone passes a candidate on the
    limit too often for some shapes of the spread (simulation: tests/govern/test_gate_simulation.py);
    requiring both keeps the pass rate within alpha.
    """
    from kit.eval.stats import t_for

    m = len(infl)
    a = linearized_bounds(estimate=math.log(est), influence=[u / est for u in infl], alpha=level)
    if a is None:
        return None
    half = (a[1] - a[0]) / 2
    centre = math.log(est) + (half / t_for(level, m - 1)) ** 2 * m / (2 * m)  # + CV²/(2m), CV² = m·se²
    w = [t / (sum(columns["tokens"]) / m) for t in columns["tokens"]]
    y = [math.log(max(k / t, 1e-12)) for k, t in zip(columns["kl"], columns["tokens"])]
    ybar = sum(wi * yi for wi, yi in zip(w, y)) / m
    s2 = sum(wi * (yi - ybar) ** 2 for wi, yi in zip(w, y)) / (m - 1)
    cox = ybar + s2 / 2, t_for(level, m - 1) * math.sqrt(s2 / m + s2 * s2 / (2 * (m - 1)))
    return (math.exp(min(centre - half, cox[0] - cox[1])), math.exp(max(centre + half, cox[0] + cox[1])))


def _bounds(metric: str, kind: str, columns: dict[str, list[float]], noise: NoisePolicy, level: float,
            seeded_order: bool) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    """Bounds of the signed change: Student-t on influence values (seeded-order records) or the old bootstrap."""
    if seeded_order:
        est, infl, to_delta = _influence(metric, kind, columns)
        if metric == "kl_mean" and est > 0:
            b = _kl_bounds(est, infl, columns, level)
        else:
            b = linearized_bounds(estimate=est, influence=infl, alpha=level)
        test = {"test": "paired windows, delta-method Student-t bounds (one-sided)", "windows": len(infl),
                "alpha": level}
        return (None if b is None else (to_delta(b[0]), to_delta(b[1]))), test
    b = bootstrap_bounds(columns=columns, statistic=_statistic(metric, kind), resamples=noise.bootstrap_resamples,
                         seed=noise.bootstrap_seed, alpha=level)
    return b, {"test": "paired bootstrap over windows (percentile, one-sided)", "windows": len(columns["tokens"]),
               "resamples": noise.bootstrap_resamples, "seed": noise.bootstrap_seed, "alpha": level}


def window_evidence(*, base: dict[str, Any], cand: dict[str, Any], limit: MetricLimit, delta: float, tokens: int,
                    noise: NoisePolicy, level: float | None = None) -> Evidence:
    """Paired bounds over scored windows for perplexity, top-1 agreement or KL.

    Records scored in the seeded order get Student-t bounds from per-window influence values;
    older records (no ``order``) the seeded percentile bootstrap, exactly as before.

    Records without per-window data (written before the harness kept it) get no interval:
    the line is ``inconclusive`` with the reason, since nothing shows how far the value may
    move on other text.

    Args:
        base: the baseline's text record.
        cand: the candidate's text record (agreement measured against the baseline).
        limit: the metric's limit.
        delta: the observed signed change, limit units.
        tokens: tokens scored.
        noise: alpha, resamples and seed.
        level: the one-sided level of the bounds (default ``noise.alpha``).
    """
    level = noise.alpha if level is None else level
    b, c = _windows(base, "accuracy", ("nll", "tokens")), _windows(cand, "accuracy", ("nll", "tokens"))
    agree = _windows(cand, "agreement", ("top1", "kl"))
    if agree is not None and c is not None and len(agree["top1"]) != len(c["tokens"]):
        agree = None
    needs_agreement = limit.metric != "perplexity"  # agreement is already paired: the candidate's record suffices
    if c is None or (agree is None if needs_agreement else b is None):
        note = ("no interval: a record lacks per-window data (written before the gate's bootstrap); "
                "re-evaluate baseline and candidate with `kit eval` to decide")
        return Evidence(status="inconclusive", interval=None, mdc=None, needed=None,
                        test={"test": "none (no per-window data)"}, note=note)
    if needs_agreement:
        columns = {"tokens": c["tokens"], "top1": agree["top1"], "kl": agree["kl"]}
    else:
        if b["tokens"] != c["tokens"]:
            raise KitError(f"'{as_record(cand).set_name}' records scored different windows; "
                           "re-evaluate both the same way")
        columns = {"tokens": c["tokens"], "base_nll": b["nll"], "cand_nll": c["nll"]}
    seeded = unit_index(cand) is not None
    bounds, test = _bounds(limit.metric, limit.limit_kind, columns, noise, level, seeded)
    if bounds is None:
        return Evidence(status="inconclusive", interval=None, mdc=None, needed=None, test=test,
                        note="no interval: one window shows no spread; score more of the set")
    lo, hi = bounds
    dlo, dhi = limit.spec.degradation_bounds(lo, hi)
    status = decide(degradation=(dlo, dhi), limit=limit.limit)
    observed = limit.spec.degradation(delta)
    needed = None
    if status == "inconclusive":
        below = observed < limit.limit  # the bound facing the limit decides
        half, gap = (dhi - observed, limit.limit - observed) if below else (observed - dlo, observed - limit.limit)
        needed = math.ceil(tokens * (half / gap) ** 2) if gap > 0 and half > 0 else None
    fmt = "+.2%" if limit.limit_kind == "relative" else "+.4f"
    note = _note(status, (dlo, dhi), limit.limit, level, fmt) + f" ({len(c['tokens'])} windows)"
    if not seeded:
        note += "; old record (no order seed): bootstrap bounds as before"
    if status == "inconclusive":
        note += (f"; about {needed} tokens would decide it at this spread" if needed
                 else "; the observed change sits on the limit")
    return Evidence(status=status, interval=(lo, hi), mdc=(hi - lo) / 2, needed=needed, test=test, note=note)
