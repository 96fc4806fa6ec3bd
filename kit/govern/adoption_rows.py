"""The adoption tables' rows as values: inventory items, incidents, promotions, import batches, stored reports.

:class:`~kit.govern.adoption_db.AdoptionTables` reads and writes them; they stay importable from
:mod:`kit.govern.adoption_db` as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["ImportBatch", "Incident", "InventoryItem", "Promotion", "StoredReport"]


@dataclasses.dataclass(frozen=True)
class InventoryItem:
    """One served model: who owns it, how much traffic it takes, what serving it costs."""

    model_ref: str
    owner: str
    requests_per_day: int
    criticality: str
    serving_cost_per_day: float | None
    use_case: str | None
    source: str
    imported_at: str


@dataclasses.dataclass(frozen=True)
class Incident:
    """A regression caught at the gate or one that reached production."""

    id: str
    entry_id: str | None
    model_ref: str
    stage: str
    note: str
    occurred_at: str
    recorded_at: str
    recorded_by: str
    source: str


@dataclasses.dataclass(frozen=True)
class Promotion:
    """One promotion event (the alias table keeps only the current target)."""

    id: str
    entry_id: str
    alias: str
    scope: str
    promoted_at: str
    promoted_by: str


@dataclasses.dataclass(frozen=True)
class ImportBatch:
    """One CSV import: what it added or changed, so ``kit registry import --undo ID`` can take it back."""

    id: str
    kind: str
    source: str
    imported_at: str
    imported_by: str
    row_count: int
    undone_at: str | None


@dataclasses.dataclass(frozen=True)
class StoredReport:
    """A report summary stored on an entry it covers."""

    id: str
    entry_id: str
    created_at: str
    kind: str
    path: str | None
    summary: dict[str, Any]
