"""Planned looks for the gate: Lan–DeMets O'Brien–Fleming alpha spending, and the records seen at each look.

A set scored in the seeded order (:mod:`kit.eval.ordering`) is looked at after each planned
segment (25/50/75/100 % by default). Looking ``K`` times at level ``alpha`` each would pass
a candidate sitting on the limit up to ``K`` times as often, so each look gets only part of
``alpha``: the O'Brien–Fleming-type spending function of Lan and DeMets (1983),

    α(t) = 2 · (1 − Φ(z_{1−α/2} / √t)),

spends almost nothing early (t = 0.25 of the data: α(t) ≈ 0.0001 of 0.05) and almost all of
it at the last look, whose bound is barely wider than a single test's. The critical value
``c_k`` of look ``k`` solves ``P(first crossing at look k) = α(t_k) − α(t_{k−1})`` for the
Brownian motion of the score statistic (independent increments), integrated numerically
on a grid; the look's bounds are then ordinary one-sided bounds at the nominal level
``1 − Φ(c_k)``. The same ``c_k`` serves the ``fail`` side, so a pass and a false fail at the
limit each stay below ``alpha`` over all looks (``tests/govern/test_evidence.py`` measures it).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

from kit.errors import KitError
from kit.eval.ordering import unit_index

__all__ = ["Look", "critical_values", "looks_of", "nominal_levels", "spent"]

_N = NormalDist()


def spent(t: float, alpha: float) -> float:
    """Alpha spent by information fraction ``t`` under the O'Brien–Fleming-type plan (one-sided).

    Args:
        t: information fraction in (0, 1].
        alpha: the one-sided level at ``t = 1``.
    """
    return 2 * (1 - _N.cdf(_N.inv_cdf(1 - alpha / 2) / math.sqrt(t)))


@functools.lru_cache(maxsize=256)
def critical_values(fractions: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    """One-sided critical values ``c_k`` of the score statistic at each look (a single look: ``z_{1−alpha}``).

    Args:
        fractions: information fractions of the looks, increasing, the last 1.
        alpha: the plan's one-sided level.
    """
    import numpy as np

    step = 0.01
    out, density, grid, prev_t, prev_spent = [], None, None, 0.0, 0.0
    for t in fractions:
        target = spent(t, alpha) - prev_spent
        if density is None:  # the first look: B(t) ~ N(0, t)
            c = _N.inv_cdf(1 - target)
            grid = np.arange(-10 * math.sqrt(t), c * math.sqrt(t), step)
            density = np.exp(-grid ** 2 / (2 * t)) / math.sqrt(2 * math.pi * t)
        else:
            sd = math.sqrt(t - prev_t)
            mass = density * step  # continuing paths below the previous bound

            def crossing(c: float, _t: float = t, _sd: float = sd, _mass: Any = mass, _grid: Any = grid) -> float:
                z = (c * math.sqrt(_t) - _grid) / _sd
                return float((_mass * 0.5 * np.vectorize(math.erfc)(z / math.sqrt(2))).sum())

            lo, hi = -5.0, 12.0
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if crossing(mid) > target else (lo, mid)
            c = (lo + hi) / 2
            new = np.arange(grid[0] - 6 * sd, c * math.sqrt(t), step)
            kernel = np.exp(-(new[:, None] - grid[None, :]) ** 2 / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi))
            grid, density = new, kernel @ mass
        out.append(c)
        prev_t, prev_spent = t, spent(t, alpha)
    return tuple(out)


def nominal_levels(fractions: Sequence[float], alpha: float) -> list[float]:
    """The one-sided level of each look's bounds, ``1 − Φ(c_k)``.

    Args:
        fractions: information fractions of the looks.
        alpha: the plan's one-sided level.
    """
    return [1 - _N.cdf(c) for c in critical_values(tuple(round(f, 6) for f in fractions), alpha)]


@dataclasses.dataclass(frozen=True)
class Look:
    """One look at a metric: the candidate's first ``n`` units and the baseline's same units."""

    index: int  # 1-based
    count: int  # planned looks
    n: int  # units (windows or items) seen
    total: int  # units in the set
    level: float  # one-sided level of this look's bounds
    base: dict[str, Any]
    cand: dict[str, Any]
    stub: bool = False  # before the first planned look (a one-batch stub record): judged, never decided


def _take(section: dict[str, Any] | None, keys: Sequence[str], pick: Sequence[int]) -> dict[str, Any] | None:
    if not section:
        return section
    return section | {k: [section[k][i] for i in pick] for k in keys if isinstance(section.get(k), list)}


def _view(record: dict[str, Any], pick: Sequence[int]) -> dict[str, Any]:
    """``record`` restricted to its units at positions ``pick`` (in that order), totals recomputed."""
    if record["eval_set"]["kind"] != "text":
        acc = _take(record["accuracy"], ("correct", "correct_sum", "exact", "answers", "ids"), pick)
        key = "accuracy" if record["eval_set"]["kind"] == "multiple_choice" else "contains_match"
        return record | {"accuracy": acc | {key: sum(acc["correct"]) / len(pick), "items": len(pick)}}
    acc = record["accuracy"] | {"per_window": _take(record["accuracy"]["per_window"], ("nll", "tokens"), pick)}
    n = sum(acc["per_window"]["tokens"])
    acc |= {"perplexity": math.exp(sum(acc["per_window"]["nll"]) / n), "tokens_scored": n, "windows": len(pick)}
    agree = record.get("agreement")
    if agree and isinstance(agree.get("per_window"), dict):
        w = _take(agree["per_window"], ("top1", "kl"), pick)
        agree = agree | {"per_window": w, "top1": sum(w["top1"]) / n, "kl_mean": max(sum(w["kl"]) / n, 0.0), "tokens": n}
    return record | {"accuracy": acc, "agreement": agree}


def looks_of(*, base: dict[str, Any], cand: dict[str, Any], alpha: float, sequential: bool) -> list[Look]:
    """The looks at which the gate judges ``cand`` against ``base``; one look (all units) unless ``sequential``.

    The baseline's units are paired with the candidate's by natural index (``order.index``),
    so a partial candidate record gates against a full baseline record. Records without an
    order section (before the sequential gate) get one look at level ``alpha``, unchanged.

    Args:
        base: the baseline's record of the set.
        cand: the candidate's record of the same set (possibly partial).
        alpha: the plan's one-sided level.
        sequential: look at every planned boundary the candidate's record reached.
    """
    cidx, bidx = unit_index(cand), unit_index(base)
    if cidx is None or bidx is None:
        return [Look(index=1, count=1, n=0, total=0, level=alpha, base=base, cand=cand)]
    where = {u: i for i, u in enumerate(bidx)}
    missing = [u for u in cidx if u not in where]
    if missing:
        raise KitError(f"the baseline's '{cand['eval_set']['name']}' record lacks {len(missing)} unit(s) the candidate "
                       "scored; gate against a baseline scored at least as far (or in full)")
    order = cand["order"]
    cuts = [b for b in order["boundaries"] if b <= order["scored"]] if sequential else [order["scored"]]
    total = order["total"]
    plan = order["boundaries"] if sequential else [total]
    levels = nominal_levels([b / total for b in plan], alpha)
    stub = not cuts and order["scored"] > 0  # scored, but not as far as the first planned look
    looks = []
    for k, b in enumerate(cuts or ([order["scored"]] if stub else [])):
        level = levels[plan.index(b)] if b in plan else levels[0] if stub else alpha
        pick, paired = list(range(b)), [where[cidx[i]] for i in range(b)]
        looks.append(Look(index=k + 1, count=len(plan), n=b, total=total, level=level, stub=stub,
                          cand=cand if b == len(cidx) else _view(cand, pick),
                          base=base if paired == list(range(len(bidx))) else _view(base, paired)))
    return looks
