"""The gate's error rates, measured: simulated paired items and windows with the true degradation ON the limit.

Every simulated candidate is judged by the kit's own ``gate()`` (one metric per policy),
through the fixed-sample path (one look) and the sequential plan (looks at 25/50/75/100 %).
With the true degradation exactly on the limit, the pass rate must stay within
``alpha + 3`` Monte-Carlo standard errors; with no degradation the pass rate (power) is
reported. Sizes: each bundled policy's ``min_samples`` and each bundled set's size. A seeded
subset runs in the normal suite; the whole grid is marked slow. ``python
tests/govern/test_gate_simulation.py`` prints the table quoted in docs/gate-and-registry.md.
"""

from __future__ import annotations

import math
import random
import sys

import pytest

from kit.eval.ordering import DEFAULT_LOOKS, boundaries
from kit.govern.gate import gate
from kit.govern.policy import MetricLimit, NoisePolicy, UseCasePolicy

ALPHA = 0.05
WINDOW = 511  # tokens scored per 512-token window
SET_SIZES = {"stdlib-docs": 49, "everyday-mc": 336, "short-answers": 430}  # windows / items of the bundled sets
KIND = {"perplexity": "text", "top1_agreement": "text", "kl_mean": "text", "accuracy": "multiple_choice",
        "contains_match": "generation"}
SET = {"text": "stdlib-docs", "multiple_choice": "everyday-mc", "generation": "short-answers"}
PLANS = {"fixed": False, "looks": True}


def _policy(limit: MetricLimit) -> UseCasePolicy:
    return UseCasePolicy(name="sim", description="simulation", default_method="bnb-int8", eval_sets=(limit.eval_set,),
                         metrics=(limit,), noise=NoisePolicy(alpha=ALPHA, bootstrap_resamples=500, bootstrap_seed=0))


def _record(*, sha: str, kind: str, accuracy: dict, agreement: dict | None, n: int, sequential: bool | None) -> dict:
    order = None
    if sequential is not None:
        unit = {"text": 4, "generation": 8}.get(kind, 1)
        cuts = boundaries(n, looks=DEFAULT_LOOKS, unit=unit)
        order = {"seed": 0, "boundaries": cuts, "total": n, "scored": n, "index": list(range(n)),
                 "sequential": sequential}
    rec = {"schema": "kit.eval/1", "model": {"ref": sha, "sha256": sha * 64, "baseline": {"sha256": "b" * 64}},
           "baseline": {"sha256": "b" * 64} if agreement else None,
           "eval_set": {"name": SET[kind], "kind": kind, "sha256": "s" * 64}, "protocol": {"kind": kind},
           "accuracy": accuracy, "agreement": agreement, "environment": {}}
    return rec | ({"order": order} if order else {})


def simulate_items(rng: random.Random, *, n: int, degradation: float, churn: float, sequential: bool | None,
                   kind: str = "multiple_choice") -> tuple[dict, dict]:
    """Paired 0/1 items: a fraction ``churn`` changes, lost − gained = ``degradation`` in expectation."""
    p_lost, p_gained = (churn + degradation) / 2, (churn - degradation) / 2
    base, cand = [], []
    for _ in range(n):
        u = rng.random()
        if u < p_lost:
            b, c = 1, 0
        elif u < p_lost + p_gained:
            b, c = 0, 1
        else:
            b = c = int(rng.random() < 0.5)
        base.append(b)
        cand.append(c)
    ids = [f"q{i}" for i in range(n)]
    key = "accuracy" if kind == "multiple_choice" else "contains_match"

    def acc(x):
        return {key: sum(x) / n, "items": n, "correct": x, "ids": ids}

    return (_record(sha="b", kind=kind, accuracy=acc(base), agreement=None, n=n, sequential=sequential),
            _record(sha="c", kind=kind, accuracy=acc(cand), agreement=None, n=n, sequential=sequential))


def simulate_windows(rng: random.Random, *, m: int, metric: str, value: float, sequential: bool | None
                     ) -> tuple[dict, dict]:
    """Paired 511-token windows with realistic spread; the population change of ``metric`` equals ``value``.

    Text difficulty varies between windows (per-token NLL 2.6 ± 0.45); the candidate's
    per-token NLL change varies around log(1 + value) with SD 0.06 nats; top-1 agreement
    per window is Binomial(511, r) with r = 1 − value ± 0.04; KL per window is skewed
    (Gamma, coefficient of variation 0.5) around ``value``.
    """
    tokens = [WINDOW] * m
    base_nll = [max(rng.gauss(2.6, 0.45), 0.5) * t for t in tokens]
    shift = math.log1p(value) if metric == "perplexity" else 0.02
    cand_nll = [b + (shift + rng.gauss(0, 0.06)) * t for b, t in zip(base_nll, tokens)]
    agree = None
    if metric != "perplexity":
        rate = 1 - value if metric == "top1_agreement" else 0.9
        top1 = [_binomial(rng, t, min(max(rng.gauss(rate, 0.04), 0.0), 1.0)) for t in tokens]
        mean_kl = value if metric == "kl_mean" else 0.05
        kl = [rng.gammavariate(4.0, mean_kl / 4.0) * t if mean_kl > 0 else 0.0 for t in tokens]
        n = sum(tokens)
        agree = {"top1": sum(top1) / n, "kl_mean": sum(kl) / n, "tokens": n, "per_window": {"top1": top1, "kl": kl}}

    def acc(nll):
        n = sum(tokens)
        return {"perplexity": math.exp(sum(nll) / n), "tokens_scored": n, "windows": m,
                "per_window": {"nll": nll, "tokens": tokens}}

    return (_record(sha="b", kind="text", accuracy=acc(base_nll), agreement=None, n=m, sequential=sequential),
            _record(sha="c", kind="text", accuracy=acc(cand_nll), agreement=agree, n=m, sequential=sequential))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if p <= 0 or p >= 1:
        return n if p >= 1 else 0
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return min(n, max(0, round(rng.gauss(mean, sd))))


def pass_rate(*, metric: str, limit: float, size: int, min_samples: int, truth: float, plan: str, reps: int,
              seed: int, churn: float = 0.10, order: bool = True) -> tuple[float, float]:
    """(pass rate, fail rate) of ``gate()`` over ``reps`` simulated candidates whose true change is ``truth``."""
    kind = KIND[metric]
    mt = MetricLimit(metric=metric, eval_set=SET[kind], direction="lower" if metric in ("perplexity", "kl_mean")
                     else "higher", limit_kind="relative" if metric == "perplexity" else "absolute", limit=limit,
                     min_samples=min_samples)
    policy, rng = _policy(mt), random.Random(seed)
    sequential = PLANS[plan] if order else None
    passed = failed = 0
    for _ in range(reps):
        if kind == "text":
            base, cand = simulate_windows(rng, m=size, metric=metric, value=truth, sequential=sequential)
        else:
            base, cand = simulate_items(rng, n=size, degradation=truth, churn=max(churn, truth), sequential=sequential,
                                        kind=kind)
        decision = gate(baseline=base, candidate=cand, policy=policy).metrics[0].status
        passed += decision == "pass"
        failed += decision == "fail"
    return passed / reps, failed / reps


def _bound(reps: int) -> float:
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / reps)


# (metric, limit, min_samples) of every bundled policy line (tokens for token metrics, items otherwise)
GRID = [("perplexity", 0.10, 4000), ("perplexity", 0.30, 4000), ("perplexity", 0.25, 4000),
        ("perplexity", 0.02, 4000), ("top1_agreement", 0.12, 4000), ("top1_agreement", 0.22, 4000),
        ("top1_agreement", 0.05, 4000), ("kl_mean", 0.30, 4000), ("kl_mean", 0.015, 4000),
        ("accuracy", 0.03, 300), ("accuracy", 0.15, 200), ("accuracy", 0.01, 300),
        ("contains_match", 0.05, 400), ("contains_match", 0.02, 400)]


def _sizes(metric: str, min_samples: int) -> list[int]:
    """Windows or items: the policy minimum (in whole windows) and the bundled set."""
    least = math.ceil(min_samples / WINDOW) if KIND[metric] == "text" else min_samples
    return sorted({least, SET_SIZES[SET[KIND[metric]]]})


@pytest.mark.parametrize("metric,limit,min_samples,size,plan", [
    ("perplexity", 0.10, 4000, 8, "fixed"), ("perplexity", 0.10, 4000, 49, "looks"),
    ("top1_agreement", 0.12, 4000, 8, "fixed"), ("top1_agreement", 0.12, 4000, 49, "looks"),
    ("kl_mean", 0.30, 4000, 8, "fixed"), ("kl_mean", 0.30, 4000, 49, "looks"),
    ("accuracy", 0.03, 300, 300, "fixed"), ("accuracy", 0.03, 300, 336, "looks"),
    ("contains_match", 0.05, 400, 430, "fixed"), ("contains_match", 0.05, 400, 430, "looks"),
])
def test_pass_rate_on_the_limit_stays_within_alpha(metric, limit, min_samples, size, plan):
    reps = 300
    rate, _ = pass_rate(metric=metric, limit=limit, size=size, min_samples=min_samples, truth=limit, plan=plan,
                        reps=reps, seed=1)
    assert rate <= _bound(reps), f"{metric} at {size}: pass rate {rate:.3f} > {_bound(reps):.3f}"


def test_an_unchanged_model_passes_at_the_full_set():
    rate, fail = pass_rate(metric="perplexity", limit=0.10, size=49, min_samples=4000, truth=0.0, plan="looks", reps=60,
                           seed=2)
    assert rate > 0.9 and fail == 0


@pytest.mark.slow
@pytest.mark.parametrize("metric,limit,min_samples", GRID)
@pytest.mark.parametrize("plan", list(PLANS))
def test_full_grid_pass_rate_on_the_limit(metric, limit, min_samples, plan):
    reps = 1000
    for size in _sizes(metric, min_samples):
        rate, _ = pass_rate(metric=metric, limit=limit, size=size, min_samples=min_samples, truth=limit, plan=plan,
                            reps=reps, seed=size)
        assert rate <= _bound(reps), f"{metric} ≤{limit} at {size} ({plan}): pass rate {rate:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["perplexity", "kl_mean"])
def test_the_old_percentile_bootstrap_passes_too_often_at_few_windows(metric):
    """Why seeded-order records use other window bounds: the bootstrap on 8 windows (old records keep it)."""
    reps = 1000
    rate, _ = pass_rate(metric=metric, limit=0.10, size=8, min_samples=4000, truth=0.10, plan="fixed", reps=reps,
                        seed=8, order=False)
    assert rate > _bound(reps)


def table(reps: int = 1000) -> None:
    """Print pass rates on the limit (and with no change) for the grid: the docs' table."""
    print("metric | limit | size | plan | pass at limit | fail at limit | pass, no change | old bootstrap at limit")
    for metric, limit, min_samples in GRID:
        for size in _sizes(metric, min_samples):
            for plan in PLANS:
                at, fail = pass_rate(metric=metric, limit=limit, size=size, min_samples=min_samples, truth=limit,
                                     plan=plan, reps=reps, seed=size)
                power, _ = pass_rate(metric=metric, limit=limit, size=size, min_samples=min_samples, truth=0.0,
                                     plan=plan, reps=reps // 4, seed=size + 1)
                old = "-"
                if plan == "fixed" and KIND[metric] == "text":
                    old = f"{pass_rate(metric=metric, limit=limit, size=size, min_samples=min_samples, truth=limit, plan=plan, reps=reps // 2, seed=size, order=False)[0]:.3f}"  # noqa: E501
                print(f"{metric} | {limit} | {size} | {plan} | {at:.3f} | {fail:.3f} | {power:.2f} | {old}", flush=True)


if __name__ == "__main__":
    table(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
