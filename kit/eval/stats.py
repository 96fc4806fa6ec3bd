"""Paired significance for per-item 0/1 results: exact McNemar and a seeded paired bootstrap."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["discordant", "mcnemar_exact", "paired_bootstrap_ci"]


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


def paired_bootstrap_ci(
    *, baseline: Sequence[int], candidate: Sequence[int], resamples: int, seed: int, confidence: float,
) -> tuple[float, float]:
    """Percentile CI of mean(candidate − baseline), resampling items (pairs kept together).

    Args:
        baseline: 0/1 per item for the baseline.
        candidate: 0/1 per item for the candidate.
        resamples: bootstrap resamples.
        seed: RNG seed (fixed, so the verdict is reproducible).
        confidence: e.g. 0.95.
    """
    import numpy as np

    diff = np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)  # (n,)
    if diff.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(resamples, diff.size))  # (R, n)
    means = diff[idx].mean(axis=1)  # (R,)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)
