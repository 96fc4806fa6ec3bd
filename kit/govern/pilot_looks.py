"""The pilot's evaluation look by look: score the next planned segment of every open set, gate, stop what is decided.

Each set is scored in the seeded order (:mod:`kit.eval.ordering`). After every look the gate
judges each open candidate on what it has seen so far (:func:`kit.govern.gate.gate` with the
sequential plan). A candidate stops at once on a ``fail`` — checked after every set, so a fail
on the first set spares the look's other sets (they get a one-batch stub record); a set stops for a candidate when
every metric on it is decided; at the set's last look whatever is undecided is
``inconclusive``. The baseline comes from its cache, or is scored alongside the candidates
(one batch pass shared for agreement) for as far as any candidate still needs it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from kit.console import stage
from kit.eval.harness import BATCH_FACTOR, Protocol, evaluate_many
from kit.eval.ordering import extend_record
from kit.eval.record import as_record
from kit.eval.sets import load_set
from kit.govern.gate import gate
from kit.govern.policy import UseCasePolicy
from kit.govern.shapes import PilotEvaluation, SetScored

__all__ = ["Progress", "evaluate_looks", "stop_line"]

DECIDED = ("pass", "fail")


class Progress:
    """One candidate's evaluation state: its records so far, which sets it still needs, why it stopped."""

    def __init__(self, method: str, n_sets: int) -> None:
        """Start with nothing scored.

        Args:
            method: the candidate's method (for messages).
            n_sets: sets in the plan.
        """
        self.method = method
        self.records: list[dict[str, Any] | None] = [None] * n_sets
        self.needs = [True] * n_sets
        self.stopped: str | None = None

    def summary(self, sets: Sequence[str]) -> PilotEvaluation:
        """What fraction of each set was scored, and why evaluation stopped (JSON data).

        Args:
            sets: the plan's set names.
        """
        scored: dict[str, SetScored] = {}
        for name, r in zip(sets, self.records):
            rec = as_record(r) if r is not None else None  # None: a set not scored yet
            order = (rec.extra.get("order") if rec is not None else None) or {}
            n, total = order.get("scored", 0), order.get("total", 0)
            unit = "windows" if rec is not None and rec.kind == "text" else "items"
            scored[name] = {"scored": n, "total": total, "unit": unit,
                            "fraction": round(n / total, 3) if total else None}
        return {"sets": scored, "stopped": self.stopped}


def stop_line(method: str, evaluation: dict[str, Any]) -> str:
    """``gptq: stdlib-docs 16/49 windows (33 %), everyday-mc 84/336 items (25 %) — fail: ...`` (one line).

    Args:
        method: the candidate's method.
        evaluation: its ``evaluation`` entry (:meth:`Progress.summary`).
    """
    parts = [f"{name} {s['scored']}/{s['total']} {s['unit']} ({s['fraction']:.0%})"
             for name, s in evaluation["sets"].items() if s["total"]]
    return f"{method}: {', '.join(parts)} — {evaluation['stopped'] or 'not stopped'}"


def _undecided(verdict: Any, name: str) -> list[str]:
    return [m.metric for m in verdict.metrics if m.eval_set == name and m.status not in DECIDED]


def _close(c: Progress, verdict: Any, look: int, last: bool) -> None:
    """Stop ``c`` on a fail, when every metric is decided, or at the last look."""
    fails = [f"{m.metric} at look {m.look}" for m in verdict.metrics if m.status == "fail"]
    open_metrics = [m.metric for m in verdict.metrics if m.status not in DECIDED]
    if fails:
        c.stopped = f"fail: {', '.join(fails)}"
    elif not open_metrics:
        c.stopped = f"every metric decided by look {look}"
    elif last:
        c.stopped = f"last look: {', '.join(open_metrics)} undecided (inconclusive)"


def _stub_size(protocol: Protocol, kind: str) -> int:
    """Units of one batch of ``kind``: what a stub record scores (one forward pass or two)."""
    return protocol.batch_size * BATCH_FACTOR.get(kind, 1)


def _fail_so_far(c: Progress, base_records: Sequence[dict[str, Any] | None], policy: UseCasePolicy,
                 sets: Sequence[tuple[str, Protocol]]) -> Any | None:
    """The verdict on the sets ``c`` has records for, if a metric on them already fails (else None)."""
    have = [i for i, r in enumerate(c.records) if r is not None and base_records[i] is not None]
    names = {sets[i][0] for i in have}
    metrics = tuple(m for m in policy.metrics if m.eval_set in names)
    if not metrics:
        return None
    part = dataclasses.replace(policy, eval_sets=tuple(n for n in policy.eval_sets if n in names), metrics=metrics)
    verdict = gate(baseline=[base_records[i] for i in have], candidate=[c.records[i] for i in have], policy=part,
                   sequential=True)
    return verdict if any(m.status == "fail" for m in verdict.metrics) else None


def _put(records: list[dict[str, Any] | None], i: int, rec: dict[str, Any]) -> None:
    prev = records[i]
    records[i] = rec if prev is None else extend_record(prev, rec)


def evaluate_looks(
    *, sets: Sequence[tuple[str, Protocol]], policy: UseCasePolicy, base: Any, models: Sequence[Any],
    methods: Sequence[str], cached: Sequence[dict[str, Any] | None], measure_speed: bool, progress: bool,
) -> tuple[list[dict[str, Any]], list[Progress], list[dict[str, Any]]]:
    """Score look by look until every candidate stopped; a fail stops a candidate at once, even between sets.

    A candidate that fails on a set before the look's later sets is scored on those sets (when it
    has nothing on them yet) for one batch only: a stub record, so its verdict, registry entry and
    report keep a line per metric (``insufficient-samples``).

    Args:
        sets: (set, protocol) pairs of the plan.
        policy: the use case's policy (the gate at each look).
        base: the loaded baseline.
        models: the loaded candidates.
        methods: their method names.
        cached: per set, the baseline's cached full record or None (then scored alongside).
        measure_speed: measure latency/throughput on the first set.
        progress: progress bars.

    Returns:
        (the baseline's records, each candidate's :class:`Progress`, one timing row per look).
    """
    cands = [Progress(m, len(sets)) for m in methods]
    base_records: list[dict[str, Any] | None] = list(cached)
    counts: list[int | None] = [None] * len(sets)  # looks per set, known after its first look
    timings, look = [], 0
    while any(c.stopped is None for c in cands):
        t0, row, newly = time.perf_counter(), {"look": look + 1, "scored": {}}, []
        for i, (name, protocol) in enumerate(sets):
            members = [k for k, c in enumerate(cands) if c.stopped is None and c.needs[i]
                       and (counts[i] is None or look < counts[i])]
            stubs = [k for k, c in enumerate(cands) if c.stopped is not None and c.records[i] is None]
            with_base = cached[i] is None and bool(members or (stubs and base_records[i] is None))
            speed = measure_speed and i == 0 and look == 0
            if members:
                records = evaluate_many(models=[models[k] for k in members] + ([base] if with_base else []),
                                        eval_set=name, baseline=base, protocol=protocol, progress=progress,
                                        measure_speed=speed, looks=range(look, look + 1))
                counts[i] = len(records[0]["order"]["boundaries"])
                for k, rec in zip(members, records):
                    rec["order"]["sequential"] = True
                    _put(cands[k].records, i, rec)
                if with_base:
                    _put(base_records, i, records[-1])
                row["scored"][name] = [methods[k] for k in members]
            if stubs:
                kind = load_set(name).kind
                extra = [base] if with_base and not members else []
                records = evaluate_many(models=[models[k] for k in stubs] + extra, eval_set=name, baseline=base,
                                        protocol=protocol, progress=progress, measure_speed=False, looks=range(0, 1),
                                        first=_stub_size(protocol, kind))
                for k, rec in zip(stubs, records):
                    rec["order"]["sequential"] = True
                    cands[k].records[i] = rec
                if extra:
                    base_records[i] = records[-1]
                row.setdefault("stub", {})[name] = [methods[k] for k in stubs]
            for k in members:
                failed = _fail_so_far(cands[k], base_records, policy, sets)
                if failed is not None:
                    _close(cands[k], failed, look + 1, False)
                    later = [n for j, (n, _) in enumerate(sets) if j > i and cands[k].records[j] is None]
                    cands[k].stopped += f" (stopped before {', '.join(later)}: one batch each)" if later else ""
                    newly.append(f"{cands[k].method} ({cands[k].stopped})")
        for c in cands:
            if c.stopped is not None or any(r is None for r in c.records):
                continue
            verdict = gate(baseline=base_records, candidate=c.records, policy=policy, sequential=True)
            c.needs = [bool(_undecided(verdict, name)) for name, _ in sets]
            last = all(not need or counts[i] is None or look + 1 >= counts[i] for i, need in enumerate(c.needs))
            _close(c, verdict, look + 1, last)
            newly += [f"{c.method} ({c.stopped})"] if c.stopped else []
        row["seconds"] = round(time.perf_counter() - t0, 3)
        timings.append(row)
        stage("look", f"{look + 1}: scored {', '.join(f'{n} ({len(v)})' for n, v in row['scored'].items()) or 'nothing'}"
              f" ({row['seconds']:.1f} s); stopped: " + (", ".join(newly) or "none"))
        look += 1
    return [r for r in base_records if r is not None], cands, timings
