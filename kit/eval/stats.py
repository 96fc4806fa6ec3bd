"""Paired statistics for the gate: non-inferiority bounds for 0/1 items, a seeded bootstrap for windows.

Per-item metrics (accuracy, contains_match) compare the same items, so only the discordant
items carry information: ``lost`` (baseline right, candidate wrong) and ``gained`` (the
reverse). The degradation is ``D = (lost − gained) / n``. Its one-sided bounds are Tango's
score bounds for a difference of paired proportions (Tango 1998, Stat Med 17:891): the
score statistic for a hypothesised degradation ``δ`` is

    Z(δ) = (lost − gained − n·δ) / sqrt(n · (2·q̂ + δ·(1 − δ)))

with ``q̂`` the maximum-likelihood rate of gained items when the true degradation is ``δ``
(the root of a quadratic, below). Non-inferiority at level ``alpha`` against a limit ``L``:
``Z(L) ≤ −z`` (the upper bound is within ``L``) passes, ``Z(L) > z`` (the lower bound is
beyond ``L``) fails, anything between is inconclusive; ``z`` is the ``1 − alpha`` normal
quantile. Because ``Z(L)·sqrt(N/n)`` is what the same discordance rates give on ``N``
items, the items that would decide it are ``N = z² · (2·q̂ + L·(1 − L)) / (D − L)²``.

Aggregate metrics over a token stream (perplexity, top-1 agreement, KL) are resampled by
window. Records scored in the seeded order (:mod:`kit.eval.ordering`) get
:func:`linearized_bounds`: the ratio statistic's per-window influence values (the delta
method; baseline and candidate values of a window stay together) and Student-t bounds with
``m − 1`` degrees of freedom. Older records keep :func:`bootstrap_bounds` (percentile
bounds over windows drawn with replacement, seeded), which the simulation in
``tests/govern/test_evidence.py`` shows passes too often at a few windows (the t bounds hold).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from statistics import NormalDist

__all__ = ["bootstrap_bounds", "discordant", "items_needed", "linearized_bounds", "mcnemar_exact", "paired_bounds",
           "paired_z", "resolvable_items", "t_for", "z_for"]


def z_for(alpha: float) -> float:
    """The one-sided normal quantile ``z`` with ``P(Z > z) = alpha`` (1.645 for 0.05).

    Args:
        alpha: the one-sided significance level, in (0, 1).
    """
    return NormalDist().inv_cdf(1 - alpha)


def _t_tail(x: float, df: int) -> float:
    """``P(T > x)`` for Student's t with ``df`` degrees of freedom, ``x ≥ 0`` (Simpson's rule on ``u = x/s``)."""
    if x == 0:
        return 0.5
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    steps = 2000  # even; the integrand is smooth on (0, 1] and vanishes at 0
    h, total = 1.0 / steps, 0.0
    for i in range(1, steps + 1):
        s = i * h
        u = x / s
        f = math.exp(log_c - (df + 1) / 2 * math.log1p(u * u / df)) * x / (s * s)
        total += f * (1 if i == steps else 4 if i % 2 else 2)
    return total * h / 3


@functools.lru_cache(maxsize=4096)
def t_for(alpha: float, df: int) -> float:
    """The one-sided Student-t quantile with ``P(T > t) = alpha`` (``df`` degrees of freedom).

    Args:
        alpha: the one-sided level, in (0, 0.5).
        df: degrees of freedom (≥ 1).
    """
    lo, hi = 0.0, z_for(alpha)
    while _t_tail(hi, df) > alpha:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_tail(mid, df) > alpha else (lo, mid)
    return (lo + hi) / 2


def linearized_bounds(*, estimate: float, influence: Sequence[float], alpha: float) -> tuple[float, float] | None:
    """One-sided ``1 − alpha`` Student-t bounds of a statistic from its per-window influence values.

    ``influence`` holds each window's linearised contribution (mean zero), so the standard
    error is ``sqrt(Σu² / (m·(m − 1)))``; the bounds are ``estimate ∓ t_{m−1} · se``. None
    with fewer than two windows (no spread to measure).

    Args:
        estimate: the statistic on all windows.
        influence: per-window influence values (m of them).
        alpha: one-sided level of each bound.
    """
    m = len(influence)
    if m < 2:
        return None
    se = math.sqrt(sum(u * u for u in influence) / (m * (m - 1)))
    half = t_for(alpha, m - 1) * se
    return estimate - half, estimate + half


def discordant(*, baseline: Sequence[int], candidate: Sequence[int]) -> tuple[int, int]:
    """Counts of discordant pairs: (baseline right & candidate wrong, baseline wrong & candidate right).

    Args:
        baseline: 0/1 per item for the baseline.
        candidate: 0/1 per item for the candidate, same items in the same order.
    """
    if len(baseline) != len(candidate):
        raise ValueError(f"paired results need equal lengths, got {len(baseline)} and {len(candidate)}")
    lost = sum(1 for b, c in zip(baseline, candidate) if b and not c)
    gained = sum(1 for b, c in zip(baseline, candidate) if c and not b)
    return lost, gained


def mcnemar_exact(*, lost: int, gained: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of ``lost`` vs ``gained`` at p = 1/2.

    Args:
        lost: items the baseline got right and the candidate wrong.
        gained: items the candidate got right and the baseline wrong.
    """
    n = lost + gained
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(lost, gained) + 1))
    return min(1.0, 2 * tail / 2**n)


def _variance(lost: float, gained: float, n: int, delta: float) -> float:
    """Per-item variance of the paired difference under degradation ``delta`` (restricted MLE)."""
    a = 2 * n
    b = -lost - gained + (2 * n - lost + gained) * delta
    c = -gained * delta * (1 - delta)
    q = max((math.sqrt(max(b * b - 4 * a * c, 0.0)) - b) / (2 * a), 0.0)  # P(gained) given D = delta
    return 2 * q + delta * (1 - delta)


def paired_z(*, lost: int, gained: int, n: int, delta: float) -> float:
    """Tango's score statistic for "the true degradation is ``delta``" (negative: it is smaller).

    Args:
        lost: baseline right, candidate wrong.
        gained: baseline wrong, candidate right.
        n: items compared.
        delta: hypothesised degradation, a fraction of items in (−1, 1).
    """
    diff = lost - gained - n * delta
    var = _variance(lost, gained, n, delta)
    if var <= 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / math.sqrt(n * var)


def paired_bounds(*, lost: int, gained: int, n: int, alpha: float) -> tuple[float, float]:
    """One-sided ``1 − alpha`` lower and upper bounds of the degradation ``(lost − gained) / n``.

    Args:
        lost: baseline right, candidate wrong.
        gained: baseline wrong, candidate right.
        n: items compared (> 0).
        alpha: one-sided level of each bound.
    """
    z = z_for(alpha)

    def solve(target: float) -> float:  # Z(δ) decreases in δ: the δ where Z(δ) = target
        lo, hi = -1.0, 1.0
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if paired_z(lost=lost, gained=gained, n=n, delta=mid) > target else (lo, mid)
        return (lo + hi) / 2

    return solve(z), solve(-z)


def items_needed(*, lost: int, gained: int, n: int, limit: float, alpha: float) -> int | None:
    """Items that would decide ``degradation vs limit`` at the observed rates: ``z²·v(L) / (D − L)²``.

    ``v(L) = 2·q̂ + L·(1 − L)`` is the per-item variance when the true degradation is the
    limit, estimated from the observed lost and gained rates; ``None`` when the observed
    degradation sits exactly on the limit (no number of items decides it).

    Args:
        lost: baseline right, candidate wrong.
        gained: baseline wrong, candidate right.
        n: items compared (> 0).
        limit: allowed degradation, a fraction of items.
        alpha: one-sided level.
    """
    gap = (lost - gained) / n - limit
    if abs(gap) < 1e-12:
        return None
    return math.ceil(z_for(alpha) ** 2 * _variance(lost / n, gained / n, 1, limit) / gap**2)


def resolvable_items(*, limit: float, alpha: float) -> int | None:
    """The smallest set on which a candidate that changes no answer passes: ``ceil(z²·(1 − L) / L)``.

    With nothing lost or gained, ``Z(L) = −sqrt(n·L / (1 − L))``; it reaches ``−z`` at this
    ``n``. A smaller set cannot show even an unchanged model within the limit. ``None`` for
    a zero limit, which no finite set resolves.

    Args:
        limit: allowed degradation, a fraction of items (absolute).
        alpha: one-sided level.
    """
    if limit <= 0:
        return None
    if limit >= 1:
        return 1
    return max(1, math.ceil(z_for(alpha) ** 2 * (1 - limit) / limit - 1e-9))


def bootstrap_bounds(
    *, columns: Mapping[str, Sequence[float]], statistic: Callable[[Mapping[str, object]], object],
    resamples: int, seed: int, alpha: float,
) -> tuple[float, float]:
    """One-sided ``1 − alpha`` percentile bounds of ``statistic`` over windows drawn with replacement.

    Every column holds one number per window (baseline and candidate values side by side, so
    pairs stay together); ``statistic`` gets the column sums of each resample as arrays of
    shape (R,) and returns an array of shape (R,). Seeded: the same inputs give the same bounds.

    Args:
        columns: per-window values, all of the same length.
        statistic: maps column sums (name → array (R,)) to the statistic (array (R,)).
        resamples: bootstrap resamples R.
        seed: RNG seed.
        alpha: one-sided level of each bound.
    """
    import numpy as np

    data = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    sizes = {v.size for v in data.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"bootstrap columns need one equal, non-zero length, got {sorted(sizes)}")
    n = sizes.pop()
    rng = np.random.default_rng(seed)
    stats = []
    for start in range(0, resamples, 256):  # chunks keep the (R, n) index matrix small
        idx = rng.integers(0, n, size=(min(256, resamples - start), n))  # (r, n)
        stats.append(np.asarray(statistic({k: v[idx].sum(axis=1) for k, v in data.items()}), dtype=np.float64))
    values = np.concatenate(stats)  # (R,)
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)
