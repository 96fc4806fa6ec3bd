"""Paired statistics: McNemar, Tango score bounds, items needed, resolvable set size, seeded window bootstrap."""

import math

import numpy as np
import pytest

from kit.eval.stats import (
    bootstrap_bounds,
    discordant,
    items_needed,
    mcnemar_exact,
    paired_bounds,
    paired_z,
    resolvable_items,
    z_for,
)


def test_mcnemar_and_discordant_counts():
    assert mcnemar_exact(lost=0, gained=0) == 1.0
    assert mcnemar_exact(lost=5, gained=0) == pytest.approx(0.0625)
    assert mcnemar_exact(lost=3, gained=1) == pytest.approx(0.625)
    assert discordant(baseline=[1, 1, 0, 0], candidate=[0, 1, 1, 0]) == (1, 1)
    with pytest.raises(ValueError):
        discordant(baseline=[1], candidate=[1, 0])


def test_score_statistic_at_zero_is_mcnemars():
    assert paired_z(lost=5, gained=0, n=41, delta=0.0) == pytest.approx(5 / math.sqrt(5))
    assert paired_z(lost=7, gained=3, n=200, delta=0.0) == pytest.approx(4 / math.sqrt(10))
    assert paired_z(lost=0, gained=0, n=50, delta=0.0) == 0.0


def test_restricted_variance_is_the_likelihood_maximum():
    """Tango's closed-form rate of gained items under D = δ maximises the multinomial likelihood."""
    lost, gained, n, delta = 5, 2, 41, 0.05
    grid = np.linspace(1e-6, (1 - delta) / 2 - 1e-6, 200_001)
    loglik = lost * np.log(grid + delta) + gained * np.log(grid) + (n - lost - gained) * np.log(1 - 2 * grid - delta)
    q_grid = grid[np.argmax(loglik)]
    z = paired_z(lost=lost, gained=gained, n=n, delta=delta)
    q_formula = ((lost - gained - n * delta) ** 2 / (n * z * z) - delta * (1 - delta)) / 2
    assert q_formula == pytest.approx(q_grid, abs=1e-5)


def test_bounds_bracket_the_estimate_and_narrow_with_n():
    lo, hi = paired_bounds(lost=5, gained=0, n=41, alpha=0.05)
    assert lo < 5 / 41 < hi and lo == pytest.approx(0.0525, abs=5e-4)
    widths = [np.subtract(*paired_bounds(lost=n // 20, gained=n // 40, n=n, alpha=0.05)[::-1]) for n in (100, 400, 1600)]
    assert widths[0] > widths[1] > widths[2] and widths[1] == pytest.approx(widths[0] / 2, rel=0.15)
    lo0, hi0 = paired_bounds(lost=0, gained=0, n=41, alpha=0.05)  # nothing changed: still ±6 points on 41 items
    assert lo0 == pytest.approx(-hi0) and hi0 == pytest.approx(z_for(0.05) ** 2 / (41 + z_for(0.05) ** 2), rel=1e-6)


def test_bound_and_score_test_agree():
    """The upper bound is within L exactly when Z(L) ≤ −z (checked on a grid of outcomes)."""
    z = z_for(0.05)
    for lost in range(0, 12, 2):
        for gained in range(0, 6):
            lo, hi = paired_bounds(lost=lost, gained=gained, n=200, alpha=0.05)
            for limit in (0.01, 0.03, 0.05):
                zl = paired_z(lost=lost, gained=gained, n=200, delta=limit)
                if abs(abs(zl) - z) > 1e-6:
                    assert (hi <= limit) == (zl <= -z) and (lo > limit) == (zl > z)


def test_items_needed_formula_and_what_it_means():
    assert items_needed(lost=0, gained=0, n=41, limit=0.05, alpha=0.05) == resolvable_items(limit=0.05, alpha=0.05)
    need = items_needed(lost=12, gained=3, n=300, limit=0.05, alpha=0.05)
    # Z(L) grows with sqrt(n) at fixed rates, so |Z| reaches z at N = n · z² / Z(L)²
    zl = paired_z(lost=12, gained=3, n=300, delta=0.05)
    assert need == math.ceil(300 * z_for(0.05) ** 2 / zl**2 - 1e-9) == 423
    assert items_needed(lost=5, gained=0, n=100, limit=0.05, alpha=0.05) is None  # sits on the limit
    assert items_needed(lost=3, gained=1, n=40, limit=0.03, alpha=0.01) > items_needed(lost=3, gained=1, n=40,
                                                                                        limit=0.03, alpha=0.05)


def test_resolvable_items():
    assert [resolvable_items(limit=x, alpha=0.05) for x in (0.05, 0.03, 0.02, 0.01)] == [52, 88, 133, 268]
    assert resolvable_items(limit=0.0, alpha=0.05) is None
    assert resolvable_items(limit=1.0, alpha=0.05) == 1
    n = resolvable_items(limit=0.05, alpha=0.05)  # the definition: an unchanged model passes at n, not at n − 1
    assert paired_z(lost=0, gained=0, n=n, delta=0.05) <= -z_for(0.05) < paired_z(lost=0, gained=0, n=n - 1, delta=0.05)


def test_bootstrap_is_seeded_paired_and_degenerates_on_identical_data():
    rng = np.random.default_rng(1)
    tokens = [511] * 40
    base = list(rng.normal(1200, 30, 40))
    cand = [b + d for b, d in zip(base, rng.normal(20, 5, 40))]  # consistently a little worse, window by window
    cols = {"tokens": tokens, "base_nll": base, "cand_nll": cand}

    def stat(s):
        return np.expm1((s["cand_nll"] - s["base_nll"]) / s["tokens"])

    a = bootstrap_bounds(columns=cols, statistic=stat, resamples=500, seed=3, alpha=0.05)
    assert a == bootstrap_bounds(columns=cols, statistic=stat, resamples=500, seed=3, alpha=0.05)
    assert a != bootstrap_bounds(columns=cols, statistic=stat, resamples=500, seed=4, alpha=0.05)
    observed = math.expm1((sum(cand) - sum(base)) / sum(tokens))
    assert a[0] < observed < a[1] and a[1] - a[0] < 0.005  # pairing removes the large between-window spread
    same = bootstrap_bounds(columns=cols | {"cand_nll": base}, statistic=stat, resamples=100, seed=0, alpha=0.05)
    assert same == (0.0, 0.0)
    with pytest.raises(ValueError, match="equal, non-zero length"):
        bootstrap_bounds(columns={"a": [1, 2], "b": [1]}, statistic=stat, resamples=10, seed=0, alpha=0.05)
