"""The debugging room's result shapes, declared: a finding and the saved diagnosis.

These are :class:`~typing.TypedDict` s: :meth:`kit.debug.diagnose.Diagnosis.to_dict` returns the
same plain, JSON-able dict as before (saved diagnoses load unchanged); the classes name every key.
"""

from typing import Any, TypedDict

__all__ = ["DiagnosisDict", "Finding"]


class Finding(TypedDict):
    """One ranked finding (:mod:`kit.debug.checks`, :func:`kit.debug.diagnose.diagnose`)."""

    kind: str  # tokenizer, chat_template, scheme, calibration, module, block, stack
    target: str  # what it is about (a module, a block, a file)
    severity: str  # "critical" or "warning"
    score: float | None  # how strongly it stands out (None: not a number)
    text: str


class DiagnosisDict(TypedDict):
    """A diagnosis as JSON (schema ``kit.diagnosis/1``), as ``kit debug --json`` writes it."""

    schema: str
    baseline: str
    candidate: str
    use_case: str
    findings: list[Finding]
    shape: dict[str, Any]
    sensitivity: list[dict[str, Any]]
    modules: dict[str, Any]  # ModuleTable.to_dict()
    fix: dict[str, Any] | None
    seconds: float
    tokens_used: int
