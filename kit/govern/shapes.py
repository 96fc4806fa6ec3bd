"""The governance room's result shapes, declared: what :func:`kit.govern.pilot.run_pilot` returns.

These are :class:`~typing.TypedDict` s: the result is the same plain, JSON-able dict as before
(saved pilot results load unchanged); the classes name every key and its type.
No ``from __future__ import annotations`` here: ``NotRequired`` must be seen at run time.
"""

from typing import Any, NotRequired, TypedDict

__all__ = ["Decision", "FloorSeconds", "PilotCandidate", "PilotEvaluation", "PilotResult", "PilotTimings",
           "SetScored"]


class SetScored(TypedDict):
    """How much of one set a candidate was scored on (:meth:`kit.govern.pilot_looks.Progress.summary`)."""

    scored: int
    total: int
    unit: str  # "windows" (text sets) or "items"
    fraction: float | None  # None for an empty set


class PilotEvaluation(TypedDict):
    """A candidate's ``evaluation``: each set's scored fraction and why evaluation stopped."""

    sets: dict[str, SetScored]
    stopped: str | None


class FloorSeconds(TypedDict):
    """The work a pilot cannot avoid (:func:`kit.govern.pilot_results.floor_seconds`)."""

    quantize_s: float
    forward_s: float
    floor_s: float


class PilotTimings(TypedDict):
    """Every stage's seconds, the floor and wall / floor."""

    load_s: float
    looks: NotRequired[list[dict[str, Any]]]  # look-by-look runs only (not ``full``)
    evaluate_s: float
    quantize_s: dict[str, float]  # method → seconds
    gate_s: float
    register_s: float
    floor: FloorSeconds
    baseline_cached: list[bool]  # per set
    wall_s: float
    wall_over_floor: float | None


class PilotCandidate(TypedDict):
    """One candidate's result: its artifact, records, verdict, registry entry and timings."""

    method: str
    spec: dict[str, Any]  # QuantSpec.to_dict()
    path: str
    config: dict[str, Any]  # the quantization log (kit.quant.shapes.QuantLog)
    records: list[dict[str, Any]]  # kit.eval/1 records, set order
    verdict: dict[str, Any]  # Verdict.to_dict()
    verdict_text: str
    entry_id: str | None
    seconds: dict[str, float]  # quantize, gate, register
    evaluation: PilotEvaluation
    scored: str  # the one-line stop summary


class Decision(TypedDict):
    """Which candidate the pilot recommends, its registry entry and why."""

    recommended: str | None
    entry_id: str | None
    why: str


class PilotResult(TypedDict):
    """What :func:`kit.govern.pilot.run_pilot` returns."""

    model: str
    use_case: str
    policy: dict[str, Any]
    methods: list[str]
    reason: str | None
    protocol: dict[str, int | None]  # max_tokens, limit
    specs: list[dict[str, Any]]
    out_dir: str
    baseline: dict[str, list[dict[str, Any]]]  # {"records": [...]}
    candidates: list[PilotCandidate]
    table: list[dict[str, Any]]
    decision: Decision
    seconds: float
    serving_default: dict[str, Any]
    timings: PilotTimings
