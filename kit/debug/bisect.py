"""Bisect to a fix: the smallest set of modules to keep in full precision so the gate passes.

The gate is the test (:class:`kit.debug.oracle.GateOracle`). Units (whole blocks, lm_head,
embeddings) are tried in the order of the cheap ranking: first whether keeping *everything*
passes (if not, no ignore list can fix it: the cause is not in the weights), then the
shortest passing prefix (doubling, then halving), then each chosen block is narrowed to the
fewest of its projections that still pass. Keeping a module in full precision is simulated
by copying the baseline's weights into it, which is exactly what ``kit quantize --ignore``
does for round-to-nearest (and close for GPTQ/AWQ, whose other modules shift slightly); the
fix is then re-quantized for real and re-gated by :func:`kit.debug.fix.apply_fix`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kit.debug.compare import ModuleTable
from kit.debug.defaults import MAX_GATES
from kit.debug.faults import put_back, restore_modules, weight_modules
from kit.debug.sensitivity import rank_units
from kit.errors import KitError

__all__ = ["bisect_fix", "memory_cost"]


def memory_cost(*, model: Any, names: Sequence[str], bits: int | None, group_size: int | None) -> dict[str, Any]:
    """Extra bytes when ``names`` stay in the model's float dtype instead of ``bits``-bit weights with fp32 group scales.

    Args:
        model: the baseline model (its dtype is what the kept modules stay in).
        names: module names kept in full precision.
        bits: the candidate's weight bits.
        group_size: its group size (None: one scale per row, counted as negligible).
    """
    mods = weight_modules(model)
    weights = sum(mods[n].weight.numel() for n in names if n in mods)
    full = mods[names[0]].weight.element_size() if names and names[0] in mods else 4
    quant = (bits or 8) / 8 + (4 / group_size if group_size else 0.0)
    extra = int(weights * (full - quant))
    return {"weights": int(weights), "extra_bytes": extra, "extra_MiB": round(extra / 2**20, 2),
            "text": f"{weights:,} weights stay at {full * 8} bits instead of {bits}: +{extra / 2**20:.1f} MiB"}


def _modules_of(unit: str, table: ModuleTable) -> list[str]:
    return [r["name"] for r in table.ranked(kind="linear") if r["unit"] == unit]


def bisect_fix(*, gate: Callable[[Any], Any], baseline: Any, candidate: Any, table: ModuleTable,
               bits: int | None = None, group_size: int | None = None, max_gates: int = MAX_GATES) -> dict[str, Any]:
    """Search the smallest ignore list that makes ``gate(candidate)`` pass; every step is one gate run.

    ``max_gates`` is a budget of candidate gate runs, the first two included (as is; every unit
    kept): the search never runs more. A list it returns always passed a gate run; when the
    budget ends the search early, the answer says so (``exhausted``) and may not be the smallest.

    Args:
        gate: candidate ``LoadedModel`` → verdict (e.g. a :class:`~kit.debug.oracle.GateOracle`).
        baseline: the loaded baseline.
        candidate: the loaded candidate (dense weights; restored modules are put back).
        table: the module comparison that orders the units.
        bits: the candidate's weight bits (for the memory cost).
        group_size: its group size.
        max_gates: the budget of gate runs (≥ 1).
    """
    if max_gates < 1:
        raise KitError(f"--max-gates {max_gates}: the search needs at least 1 gate run (the candidate as is); "
                       "pass --max-gates 2 or more")
    steps: list[dict[str, Any]] = []

    def passes(names: list[str]) -> bool:
        saved = restore_modules(candidate.model, baseline=baseline.model, names=names)
        try:
            verdict = gate(candidate)
        finally:
            put_back(candidate.model, saved)
        steps.append({"ignore": list(names), "decision": verdict.decision})
        return verdict.passed

    def left() -> int:
        return max_gates - len(steps)

    units = [u["unit"] for u in rank_units(table)]
    if passes([]):
        return {"needed": False, "ignore": [], "steps": steps, "text": "the candidate already passes the gate"}
    if not units or not left():
        why = ("no module differs from the baseline" if not units else
               f"the budget of {max_gates} gate run(s) was spent on the candidate as is; pass --max-gates 2 or more")
        return {"needed": True, "ignore": None, "steps": steps, "exhausted": bool(units),
                "text": f"the candidate fails the gate; {why}"}
    if not passes(units):
        return {"needed": True, "ignore": None, "steps": steps,
                "text": "even with every module in full precision the gate fails: the cause is not in the weights "
                        "(check the tokenizer/chat template, the eval protocol and the stack)"}
    lo, hi, probe = 0, len(units), 1  # units[:lo] fails (or lo = 0); units[:hi] passed a gate run
    while probe < hi and left():  # doubling, then halving
        if passes(units[:probe]):
            hi = probe
            break
        lo, probe = probe, min(2 * probe, hi)
    while hi - lo > 1 and left():
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if passes(units[:mid]) else (mid, hi)
    exhausted = hi - lo > 1
    chosen = list(units[:hi])
    for unit in list(chosen):  # narrow each block to its worst projections
        mods = _modules_of(unit, table)
        for k in range(1, len(mods)):
            if not left():
                exhausted = True
                break
            pos = chosen.index(unit)
            trial = chosen[:pos] + mods[:k] + chosen[pos + 1:]
            if passes(trial):
                chosen = trial
                break
    names = [r["name"] for r in table.ranked(kind="linear") if any(r["name"] == c or r["unit"] == c for c in chosen)]
    cost = memory_cost(model=baseline.model, names=names, bits=bits, group_size=group_size)
    share = len([u for u in chosen if u in units]) / max(len(units), 1)
    note = (" Most of the model must stay in full precision: change the scheme (bits, group size, calibration) "
            "instead of ignoring modules." if share > 0.5 else "")
    if exhausted:
        note += (f" The budget of {max_gates} gate runs ended the search early: this list passed, a shorter one "
                 "may too (raise --max-gates).")
    return {"needed": True, "ignore": chosen, "modules": names, "memory": cost, "steps": steps, "exhausted": exhausted,
            "text": f"keep {', '.join(chosen)} in full precision ({cost['text']}); found with {len(steps)} gate runs.{note}"}
