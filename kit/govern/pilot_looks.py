"""The pilot's evaluation look by look: score the next planned segment of every open set, gate, stop what is decided.

Each set is scored in the seeded order (:mod:`kit.eval.ordering`). After every look the gate
judges each open candidate on what it has seen so far (:func:`kit.govern.gate.gate` with the
sequential plan). A candidate stops at once on a ``fail``; a set stops for a candidate when
every metric on it is decided; at the set's last look whatever is undecided is
``inconclusive``. The baseline comes from its cache, or is scored alongside the candidates
(one batch pass shared for agreement) for as far as any candidate still needs it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kit.console import stage
from kit.eval.harness import Protocol, evaluate_many
from kit.eval.ordering import extend_record
from kit.eval.record import as_record
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


def evaluate_looks(
    *, sets: Sequence[tuple[str, Protocol]], policy: UseCasePolicy, base: Any, models: Sequence[Any],
    methods: Sequence[str], cached: Sequence[dict[str, Any] | None], measure_speed: bool, progress: bool,
) -> tuple[list[dict[str, Any]], list[Progress], list[dict[str, Any]]]:
    """Score look by look until every candidate stopped.

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
        t0, row = time.perf_counter(), {"look": look + 1, "scored": {}}
        for i, (name, protocol) in enumerate(sets):
            if counts[i] is not None and look >= counts[i]:
                continue
            members = [k for k, c in enumerate(cands) if c.stopped is None and c.needs[i]]
            if not members:
                continue
            with_base = cached[i] is None
            records = evaluate_many(models=[models[k] for k in members] + ([base] if with_base else []),
                                    eval_set=name, baseline=base, protocol=protocol, progress=progress,
                                    measure_speed=measure_speed and i == 0 and look == 0, looks=range(look, look + 1))
            counts[i] = len(records[0]["order"]["boundaries"])
            for k, rec in zip(members, records):
                rec["order"]["sequential"] = True
                prev = cands[k].records[i]
                cands[k].records[i] = rec if prev is None else extend_record(prev, rec)
            if with_base:
                prev = base_records[i]
                base_records[i] = records[-1] if prev is None else extend_record(prev, records[-1])
            row["scored"][name] = [methods[k] for k in members]
        newly = []
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
