"""What one pilot run does, fixed before work starts: the run knobs (:class:`PilotOptions`) and the plan.

:class:`PilotOptions` gathers :func:`kit.govern.pilot.run_pilot`'s evaluation and output knobs (each is
also a keyword of ``run_pilot``); :class:`Plan` is the checked whole a run follows.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from kit.engines import PILOT_ENGINES
from kit.errors import KitError
from kit.eval.cache import RecordCache
from kit.eval.harness import Protocol
from kit.govern.policy import UseCasePolicy
from kit.quant.spec import QuantSpec

__all__ = ["Plan", "PilotOptions"]


@dataclasses.dataclass(frozen=True)
class PilotOptions:
    """How a pilot evaluates and where it writes: the run knobs of :func:`run_pilot`, each also a keyword of it.

    Args:
        protocol: evaluation sizes and settings (``Protocol(max_tokens=..., limit=...)`` for quick runs;
            quick runs may fall below policy minimums); the whole sets when None.
        full: score every candidate on every set in full and gate once (studies, the bench's comparison);
            by default candidates are evaluated look by look and stop once the gate has decided.
        measure_speed: measure latency/throughput on the first set.
        progress: progress bars (default: terminal/notebook detection).
        device: ``cpu``/``cuda``; automatic when None.
        cache: the baseline-record cache (a :class:`~kit.eval.cache.RecordCache` or its folder); the kit's
            default cache when None or True; False to always evaluate the baseline.
        overwrite: replace existing artifacts (an entry pointing at a replaced one fails revalidation).
        out_dir: artifact folder, one subfolder per method (default ``runs/pilot-<model>-<use case>-<time>``).
        engine: ``serving`` (default): each candidate is evaluated on the engine it would be served on: the
            packed engine where its artifact can be served packed here, else the reference engine (bitsandbytes
            keeps its own kernels); ``reference``: every candidate dequantized (teaching, debugging).
    """

    protocol: Protocol | None = None
    full: bool = False
    measure_speed: bool = True
    progress: bool | None = None
    device: str | None = None
    cache: RecordCache | str | os.PathLike[str] | bool | None = None
    overwrite: bool = False
    out_dir: str | os.PathLike[str] | None = None
    engine: str = "serving"

    def __post_init__(self) -> None:
        """Refuse an unknown engine choice before any work starts."""
        if self.engine not in PILOT_ENGINES:
            raise KitError(f"unknown pilot engine '{self.engine}'; use --engine {' or '.join(PILOT_ENGINES)}")


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one pilot run does, fixed (and checked) before any work starts."""

    model: str
    policy: UseCasePolicy
    specs: tuple[QuantSpec, ...]
    reason: str | None
    sets: tuple[tuple[str, Protocol], ...]
    out: Path
    device: str | None
    overwrite: bool
    measure_speed: bool
    progress: bool
    full: bool = False
    engine: str = "serving"

    def deviating(self, spec: QuantSpec) -> bool:
        """Whether ``spec`` is not the use case's sanctioned method."""
        return spec.method != self.policy.default_method
