"""Sensitivity: how much of the logits' KL goes away when one unit (block or module) is kept in full precision.

The cheap ranking (isolated error, from :func:`kit.debug.compare.compare_modules`) orders the
units; only the top few get this measurement, which costs one candidate forward per unit and
chunk (the baseline's log-probabilities of a chunk are computed once and reused).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kit.debug.compare import ModuleTable, severity
from kit.debug.defaults import TOP
from kit.debug.faults import put_back, restore_modules

__all__ = ["kl_with_restored", "rank_units", "sensitivity"]


def rank_units(table: ModuleTable) -> list[dict[str, Any]]:
    """Units to keep in full precision, most suspect first: blocks and loose modules (lm_head, embeddings).

    A unit is as severe as its worst row (:func:`kit.debug.compare.severity`): its modules' isolated
    error and the block's own, so damage outside the Linear layers (a norm) ranks its block too.
    Units that match the baseline exactly are left out: keeping them changes nothing. ``score`` is
    the worst ratio to the median (None where that median is 0).

    Args:
        table: the module comparison.
    """
    units: dict[str, dict[str, Any]] = {}
    keys: dict[str, tuple[float, float, float]] = {}
    for r in table.ranked(kind="all"):
        u = units.setdefault(r["unit"], {"unit": r["unit"], "modules": []})
        if r["kind"] != "block":
            u["modules"].append(r["name"])
        keys[r["unit"]] = max(keys.get(r["unit"], (0.0, 0.0, 0.0)), severity(r))
    ranked = sorted(units, key=lambda name: tuple(-x for x in keys[name]))
    return [units[name] | {"score": keys[name][0] if math.isfinite(keys[name][0]) else None}
            for name in ranked if keys[name][1] > 0]


def kl_with_restored(*, baseline: Any, candidate: Any, tokens: Sequence[int], groups: Sequence[Sequence[str]],
                     chunk: int = 128) -> list[float]:
    """Mean KL(baseline ‖ candidate) per token with each group of modules restored in turn ([] = as is).

    Args:
        baseline: the baseline model.
        candidate: the candidate model (restored modules are put back afterwards).
        tokens: token ids.
        groups: module-name groups to keep in full precision, one measurement each.
        chunk: tokens per forward pass.
    """
    import torch

    sums, count = [0.0] * len(groups), 0
    with torch.inference_mode():
        for start in range(0, len(tokens) - 1, chunk):
            ids = torch.tensor([list(tokens[start:start + chunk])], device=baseline.device)
            if ids.shape[1] < 2:
                continue
            pb = torch.log_softmax(baseline(input_ids=ids, use_cache=False).logits.float(), -1)
            for i, names in enumerate(groups):
                saved = restore_modules(candidate, baseline=baseline, names=names) if names else {}
                try:
                    pc = torch.log_softmax(candidate(input_ids=ids, use_cache=False).logits.float(), -1)
                finally:
                    put_back(candidate, saved)
                sums[i] += float((pb.exp() * (pb - pc)).sum())
            count += ids.shape[1]
    return [s / max(count, 1) for s in sums]


def sensitivity(*, baseline: Any, candidate: Any, table: ModuleTable, tokens: Sequence[int], top: int = TOP,
                chunk: int = 128) -> list[dict[str, Any]]:
    """For the ``top`` units of the cheap ranking that differ: KL with that unit kept in full precision, and the share recovered.

    Args:
        baseline: the baseline model.
        candidate: the candidate model.
        table: the module comparison (the cheap ranking).
        tokens: token ids for the measurement.
        top: how many units to measure.
        chunk: tokens per forward pass.
    """
    units = rank_units(table)[:top]
    if not units:
        return []
    kls = kl_with_restored(baseline=baseline, candidate=candidate, tokens=tokens,
                           groups=[[]] + [[u["unit"]] for u in units], chunk=chunk)
    total = kls[0]
    return [{"unit": u["unit"], "score": u["score"], "kl_as_is": total, "kl_restored": kl,
             "recovered_share": (total - kl) / total if total > 0 else 0.0} for u, kl in zip(units, kls[1:])]
