"""The registry's rows as values: a registered model (:class:`Entry`) and one gate run on it (:class:`Validation`).

:class:`~kit.govern.registry.Registry` reads and writes them; they stay importable from
:mod:`kit.govern.registry` as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Entry", "Validation"]


@dataclasses.dataclass(frozen=True)
class Validation:
    """One gate run recorded against an entry."""

    id: str
    entry_id: str
    created_at: str
    kind: str  # "register" or "revalidate"
    passed: bool
    verdict: dict[str, Any]
    stack: dict[str, Any]
    evals: dict[str, Any] | None = None

    @property
    def decision(self) -> str:
        """``pass``, ``fail`` or ``inconclusive`` (more data decides), as the gate said."""
        return self.verdict.get("decision") or ("pass" if self.passed else "fail")

    def outcome(self) -> str:
        """How the latest validation ended, for a sentence: ``failed its latest validation`` or ``... was inconclusive``."""
        return {"pass": "passed its latest validation", "fail": "failed its latest validation"}.get(
            self.decision, "was inconclusive at its latest validation (more data would decide)")


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered quantized model with its config log, eval records and first verdict."""

    id: str
    created_at: str
    model_ref: str
    model_sha256: str | None
    baseline_ref: str | None
    baseline_sha256: str | None
    method: str
    bits: int | None
    use_case: str
    owner: str
    volume_per_day: int | None
    reason: str | None
    passed: bool
    quant_config: dict[str, Any] | None
    evals: dict[str, Any]
    verdict: dict[str, Any]
    stack: dict[str, Any]
    aliases: tuple[str, ...] = ()

    @property
    def template_of(self) -> str | None:
        """The entry whose validated recipe this one replayed (``kit pilot --like``), from its config log."""
        value = (self.quant_config or {}).get("template_of")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON data."""
        return dataclasses.asdict(self) | {"aliases": list(self.aliases), "template_of": self.template_of}
