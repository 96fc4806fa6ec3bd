"""A use case's policy as values: the sanctioned method, the sets to run, each metric's limit, the gate's noise settings.

Limits are *allowed degradations*: for a lower-is-better metric the candidate may rise by at
most the limit, for a higher-is-better metric it may fall by at most the limit, either in the
metric's units (``absolute``) or as a fraction of the baseline value (``relative``).
:mod:`kit.govern.policy` reads them from the reviewed policy file.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kit.eval.record import METRICS, MetricSpec
from kit.govern.serving_defaults import ServingDefault

__all__ = ["MetricLimit", "NoisePolicy", "UseCasePolicy"]


@dataclasses.dataclass(frozen=True)
class MetricLimit:
    """One metric's tolerance within a use case."""

    metric: str
    eval_set: str
    direction: str
    limit_kind: str  # "absolute" or "relative"
    limit: float  # allowed degradation (≥ 0)
    min_samples: int

    @property
    def spec(self) -> MetricSpec:
        """The metric's definition from :data:`METRICS`."""
        return METRICS[self.metric]


@dataclasses.dataclass(frozen=True)
class NoisePolicy:
    """The gate's evidence settings: one-sided level of every bound, and the seeded window bootstrap."""

    alpha: float = 0.05  # each bound is one-sided at 1 − alpha (pass: upper bound within the limit)
    bootstrap_resamples: int = 2000
    bootstrap_seed: int = 0


@dataclasses.dataclass(frozen=True)
class UseCasePolicy:
    """A use case: the sanctioned default method, the sets to run and the metric limits."""

    name: str
    description: str
    default_method: str
    eval_sets: tuple[str, ...]
    metrics: tuple[MetricLimit, ...]
    noise: NoisePolicy = NoisePolicy()
    source: str | None = None
    serving_defaults: tuple[ServingDefault, ...] = ()
    #: Baselines besides the embedded model whose team reviewed these limits for them (no pilot warning then).
    reviewed_for: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (recorded with every verdict)."""
        out = dataclasses.asdict(self) | {"eval_sets": list(self.eval_sets),
                                          "metrics": [dataclasses.asdict(m) for m in self.metrics]}
        if not self.serving_defaults:
            out.pop("serving_defaults")  # snapshots of policies without it stay as they were
        else:
            out["serving_defaults"] = [dataclasses.asdict(d) for d in self.serving_defaults]
        if self.reviewed_for:
            out["reviewed_for"] = list(self.reviewed_for)
        else:
            out.pop("reviewed_for")
        return out
