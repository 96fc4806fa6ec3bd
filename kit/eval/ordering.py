"""The seeded scoring order of a set, its planned looks, and records scored look by look (partial records).

Every set is scored in a fixed order: its units (windows of a text set, items of the other
kinds) shuffled once with a recorded seed, then cut into **segments** at the planned look
fractions (25/50/75/100 % by default). Each cut is rounded up to a whole batch, and every
batch is formed inside one segment, so a model scored segment by segment (a sequential run)
sees exactly the batches it sees in a full run: bitsandbytes' LLM.int8 picks its outlier
columns per batch, so its scores depend on which units share one.

A record scored this way carries ``order``: the seed, the planned boundaries, how many units
it scored and their natural indices in scoring order, so the gate can pair a partial
(sequential) record with a full baseline record unit by unit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

__all__ = ["DEFAULT_LOOKS", "DEFAULT_ORDER_SEED", "boundaries", "chosen_units", "extend_record", "merge_scores",
           "order_info", "permutation", "segments", "unit_index"]

DEFAULT_ORDER_SEED = 0
DEFAULT_LOOKS = (0.25, 0.5, 0.75, 1.0)


def permutation(n: int, *, seed: int) -> list[int]:
    """Natural indices ``0..n-1`` in the seeded scoring order (``random.Random(seed)``: stable across Pythons).

    Args:
        n: units in the set.
        seed: the order seed.
    """
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    return idx


def boundaries(n: int, *, looks: Sequence[float], unit: int) -> list[int]:
    """Units scored at each planned look: ``ceil(f·n)`` rounded up to whole batches of ``unit``, the last ``n``.

    Looks that round to the same count merge (a small set has fewer looks).

    Args:
        n: units in the set.
        looks: planned fractions, increasing, ending at 1.
        unit: units per batch.
    """
    out: list[int] = []
    for f in looks:
        b = min(n, math.ceil(math.ceil(f * n - 1e-9) / unit) * unit)
        if b > 0 and (not out or b > out[-1]):
            out.append(b)
    if not out or out[-1] != n:
        out.append(n)
    return out


def segments(n: int, *, seed: int | None, looks: Sequence[float], unit: int) -> list[list[int]]:
    """The natural indices scored between consecutive looks (one segment in natural order when ``seed`` is None).

    Args:
        n: units in the set.
        seed: the order seed, or None for the natural order without looks (records before the sequential gate).
        looks: planned fractions.
        unit: units per batch.
    """
    if seed is None:
        return [list(range(n))]
    order, cuts = permutation(n, seed=seed), boundaries(n, looks=looks, unit=unit)
    return [order[a:b] for a, b in zip([0, *cuts[:-1]], cuts)]


def chosen_units(segs: Sequence[Sequence[int]], scored: Sequence[int], *, first: int | None) -> list[list[int]]:
    """The units of the segments ``scored``, one list per segment, cut after the ``first`` units in all (all when None).

    Args:
        segs: all segments of the set.
        scored: indices of the segments scored (consecutive).
        first: keep only this many units from the start (a stub record; see :func:`kit.eval.harness.evaluate`).
    """
    out, left = [], first
    for k in scored:
        seg = list(segs[k]) if left is None else list(segs[k])[:left]
        if seg:
            out.append(seg)
        if left is not None:
            left -= len(seg)
    return out


def order_info(*, seed: int | None, segs: Sequence[Sequence[int]], scored: Sequence[int],
               first: int | None = None) -> dict[str, Any] | None:
    """The record's ``order`` section for the segments ``scored`` (None without a seed).

    Args:
        seed: the order seed.
        segs: all segments of the set.
        scored: indices of the segments scored (consecutive).
        first: only the first this many units of them were scored (None: all).
    """
    if seed is None:
        return None
    cuts = [sum(len(s) for s in segs[: i + 1]) for i in range(len(segs))]
    index = [i for part in chosen_units(segs, scored, first=first) for i in part]
    return {"seed": seed, "boundaries": cuts, "total": cuts[-1], "scored": len(index), "index": index}


def unit_index(record: dict[str, Any]) -> list[int] | None:
    """Natural indices of the units a record scored, in its order; None for records without ``order``.

    Args:
        record: a harness record.
    """
    order = record.get("order")
    return list(order["index"]) if isinstance(order, dict) and isinstance(order.get("index"), list) else None


_LISTS = {"multiple_choice": ("correct", "correct_sum", "ids"), "generation": ("correct", "exact", "answers", "ids")}


def merge_scores(kind: str, parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One set's score dict from the score dicts of consecutive segments (totals recomputed exactly).

    Args:
        kind: the set's kind.
        parts: score dicts (as the scorers return them), in scoring order.
    """
    if len(parts) == 1:
        return parts[0]
    if kind == "text":
        n = sum(p["tokens_scored"] for p in parts)
        nll = sum(p["nll_per_token"] * p["tokens_scored"] for p in parts)
        out: dict[str, Any] = {"perplexity": math.exp(nll / n), "nll_per_token": nll / n, "tokens_scored": n,
                               "windows": sum(p["windows"] for p in parts),
                               "per_window": {k: [x for p in parts for x in p["per_window"][k]]
                                              for k in ("nll", "tokens")}}
        agree = [p.get("agreement") for p in parts]
        if all(a is not None for a in agree):
            top1 = sum(a["top1"] * a["tokens"] for a in agree)
            kl = sum(a["kl_mean"] * a["tokens"] for a in agree)
            out["agreement"] = {"top1": round(top1) / n, "kl_mean": max(kl / n, 0.0), "tokens": n,
                                "per_window": {k: [x for a in agree for x in a["per_window"][k]] for k in ("top1", "kl")}}
        return out
    keys = [k for k in _LISTS[kind] if all(isinstance(p.get(k), list) for p in parts)]
    out = dict(parts[0]) | {k: [x for p in parts for x in p[k]] for k in keys}
    n = len(out["correct"])
    out["items"] = n
    totals = {"correct": "accuracy" if kind == "multiple_choice" else "contains_match", "correct_sum": "accuracy_sum",
              "exact": "exact_match"}
    return out | {totals[k]: sum(out[k]) / n for k in keys if k in totals}


def extend_record(record: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``record`` (scored up to some look) extended by ``more`` (the next segments of the same model and set).

    Args:
        record: a partial harness record.
        more: the record of the following segments (same model, set, protocol and seed).
    """
    kind = record["eval_set"]["kind"]
    parts = [dict(r["accuracy"]) | ({"agreement": r["agreement"]} if r.get("agreement") else {})
             for r in (record, more)]
    merged = merge_scores(kind, parts)
    agreement = merged.pop("agreement", None)
    a, b = record["order"], more["order"]
    order = a | {"scored": a["scored"] + b["scored"], "index": a["index"] + b["index"]}
    seconds = {k: round((record.get("seconds") or {}).get(k, 0.0) + (more.get("seconds") or {}).get(k, 0.0), 3)
               for k in set(record.get("seconds") or {}) | set(more.get("seconds") or {})}
    return record | {"accuracy": merged, "agreement": agreement if agreement else record.get("agreement"),
                     "order": order, "seconds": seconds}
