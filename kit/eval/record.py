"""The ``kit.eval/1`` record as a typed value, and the metrics it carries (name, direction, where stored).

:func:`kit.eval.harness.evaluate` returns the record as plain JSON data (``EvalRecord.to_dict()``);
``EvalRecord.from_dict`` reads it back, including records written before this class existed.
Every metric's direction (lower or higher is better) and location in the record live in
:data:`METRICS`; every set kind's headline metric lives in :data:`PRIMARY`. The gate, the
tables, compare and the policy validator read them from here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kit.errors import KitError

__all__ = ["METRICS", "PRIMARY", "SCHEMA", "EvalRecord", "Measurement", "MetricSpec", "as_record"]

SCHEMA = "kit.eval/1"


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    """What a metric is: the set kind it comes from, its direction, where the record holds it."""

    kind: str  # eval-set kind that produces it
    direction: str  # "lower" or "higher" is better
    samples: str  # "tokens" or "items"
    section: str  # record section holding it: "accuracy" or "agreement"
    key: str  # its field in that section
    count: str  # the field of that section holding the sample count
    label: str  # short column name in tables
    ideal: float | None = None  # agreement metrics compare to this instead of a baseline value
    paired: bool = False  # per-item 0/1 results exist → paired significance test

    def degradation(self, delta: float) -> float:
        """How much worse a signed change is (positive = worse), whatever the direction.

        Args:
            delta: candidate minus reference (absolute or relative).
        """
        return delta if self.direction == "lower" else -delta

    def degradation_bounds(self, lo: float, hi: float) -> tuple[float, float]:
        """Bounds of a signed change → bounds of its degradation (positive = worse); the map is its own inverse.

        Args:
            lo: lower bound of candidate minus reference.
            hi: upper bound of candidate minus reference.
        """
        return (lo, hi) if self.direction == "lower" else (-hi, -lo)

    def limit_text(self, limit: float) -> tuple[str, float]:
        """The comparison sign and signed change bound that an allowed degradation ``limit`` stands for.

        Args:
            limit: the allowed degradation (positive = worse).
        """
        return ("≤ " if self.direction == "lower" else "≥ "), self.degradation(limit)


#: Metric name → definition (the policy file's metric names).
METRICS: dict[str, MetricSpec] = {
    "perplexity": MetricSpec(kind="text", direction="lower", samples="tokens", section="accuracy",
                             key="perplexity", count="tokens_scored", label="ppl"),
    "accuracy": MetricSpec(kind="multiple_choice", direction="higher", samples="items", section="accuracy",
                           key="accuracy", count="items", label="acc", paired=True),
    "contains_match": MetricSpec(kind="generation", direction="higher", samples="items", section="accuracy",
                                 key="contains_match", count="items", label="match", paired=True),
    "top1_agreement": MetricSpec(kind="text", direction="higher", samples="tokens", section="agreement",
                                 key="top1", count="tokens", label="top1", ideal=1.0),
    "kl_mean": MetricSpec(kind="text", direction="lower", samples="tokens", section="agreement",
                          key="kl_mean", count="tokens", label="kl", ideal=0.0),
}

#: Set kind → its headline metric.
PRIMARY: dict[str, str] = {"text": "perplexity", "multiple_choice": "accuracy", "generation": "contains_match"}


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One metric read from a record: its value and how many samples it rests on."""

    metric: str
    value: float
    samples: int
    spec: MetricSpec

    @property
    def label(self) -> str:
        """The short column name (``ppl``, ``acc``, ``match``, ``top1``, ``kl``)."""
        return self.spec.label


_REQUIRED = ("model", "eval_set", "protocol", "accuracy")
_OPTIONAL_KEYS = ("created_at", "seconds")  # absent from some records; left out of to_dict when None
_ORDER = ("schema", "created_at", "model", "baseline", "eval_set", "protocol", "accuracy", "agreement", "latency",
          "throughput", "memory", "environment", "seconds")


@dataclasses.dataclass(frozen=True)
class EvalRecord:
    """One evaluation: model, set, protocol, accuracy, agreement, latency, throughput, memory, environment."""

    model: dict[str, Any]
    eval_set: dict[str, Any]
    protocol: dict[str, Any]
    accuracy: dict[str, Any]
    baseline: dict[str, Any] | None = None  # the reference agreement was measured against
    agreement: dict[str, Any] | None = None
    latency: dict[str, Any] | None = None
    throughput: dict[str, Any] = dataclasses.field(default_factory=dict)
    memory: dict[str, Any] = dataclasses.field(default_factory=dict)
    environment: dict[str, Any] = dataclasses.field(default_factory=dict)
    created_at: str | None = None
    seconds: dict[str, Any] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # unknown keys, kept for the round trip
    schema: str = SCHEMA

    @property
    def kind(self) -> str:
        """The set's kind: ``text``, ``multiple_choice`` or ``generation``."""
        return str(self.eval_set["kind"])

    @property
    def set_name(self) -> str:
        """The set's name."""
        return str(self.eval_set["name"])

    def metric(self, name: str) -> Measurement:
        """One metric of :data:`METRICS` with its sample count; a one-line error when the record lacks it.

        Args:
            name: ``perplexity``, ``accuracy``, ``contains_match``, ``top1_agreement`` or ``kl_mean``.
        """
        if name not in METRICS:
            raise KitError(f"unknown metric '{name}'; use one of {', '.join(METRICS)}")
        spec = METRICS[name]
        data = getattr(self, spec.section) or {}
        if data.get(spec.key) is None:
            fix = ("evaluate the candidate with its baseline (`kit eval --baseline ...`)" if spec.section == "agreement"
                   else "evaluate it again with `kit eval`")
            raise KitError(f"record for '{self.set_name}' has no {name}; {fix}")
        return Measurement(metric=name, value=float(data[spec.key]), samples=int(data.get(spec.count) or 0), spec=spec)

    def primary_metric(self) -> Measurement:
        """The headline metric of the set's kind (perplexity, accuracy or contains-match)."""
        if self.kind not in PRIMARY:
            raise KitError(f"record for '{self.set_name}' has unknown set kind '{self.kind}'; "
                           f"expected one of {', '.join(PRIMARY)}")
        return self.metric(PRIMARY[self.kind])

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON data, in the order the harness has always written it."""
        data = {key: getattr(self, key) for key in _ORDER}
        return {k: v for k, v in data.items() if not (k in _OPTIONAL_KEYS and v is None)} | self.extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalRecord:
        """Read a stored record (JSON of ``kit eval --json``, old or new); a one-line error when it is not one.

        Args:
            data: the record's JSON data.
        """
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise KitError(f"not a {SCHEMA} harness record; pass the JSON written by `kit eval --json`")
        missing = [k for k in _REQUIRED if not isinstance(data.get(k), dict)]
        if missing:
            raise KitError(f"{SCHEMA} record lacks {', '.join(missing)}; pass the JSON written by `kit eval --json`")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        for key in ("throughput", "memory", "environment"):  # null in some old records
            if known.get(key) is None:
                known.pop(key, None)
        return cls(**known, extra={k: v for k, v in data.items() if k not in names})


def as_record(record: EvalRecord | dict[str, Any]) -> EvalRecord:
    """An :class:`EvalRecord` from either a record or its JSON data.

    Args:
        record: a record or a dict written by ``kit eval --json``.
    """
    return record if isinstance(record, EvalRecord) else EvalRecord.from_dict(record)
