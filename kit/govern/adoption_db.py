"""The registry's adoption tables: the model inventory, the incident log, promotions and stored reports.

They live in the same SQLite file or PostgreSQL schema as the entries (same portable DDL) and are
created on first write, so registries made before them keep working and a read-only open reads
an absent table as empty. :class:`AdoptionTables` is mixed into :class:`~kit.govern.registry.Registry`.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError
from kit.govern._registry_db import current_user as _owner
from kit.govern.costs import CRITICALITY

__all__ = ["INCIDENT_STAGES", "INVENTORY_COLUMNS", "AdoptionTables", "Incident", "InventoryItem", "Promotion",
           "StoredReport", "read_csv"]

INCIDENT_STAGES = ("gate", "production")
INVENTORY_COLUMNS = ("model", "owner", "requests_per_day", "criticality", "serving_cost_per_day", "use_case")
_INCIDENT_COLUMNS = ("occurred_at", "model", "stage", "note")  # optional: entry, use_case
_TABLES = ("registry_inventory", "registry_incidents", "registry_promotions", "registry_reports")
_DDL = (
    """CREATE TABLE IF NOT EXISTS registry_inventory (
        model_ref TEXT PRIMARY KEY, owner TEXT NOT NULL, requests_per_day INTEGER NOT NULL,
        criticality TEXT NOT NULL, serving_cost_per_day DOUBLE PRECISION, use_case TEXT,
        source TEXT NOT NULL, imported_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS registry_incidents (
        id TEXT PRIMARY KEY, entry_id TEXT REFERENCES registry_entries(id), model_ref TEXT NOT NULL,
        stage TEXT NOT NULL, note TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL, source TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS registry_promotions (
        id TEXT PRIMARY KEY, entry_id TEXT NOT NULL REFERENCES registry_entries(id), alias TEXT NOT NULL,
        scope TEXT NOT NULL, promoted_at TEXT NOT NULL, promoted_by TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS registry_reports (
        id TEXT PRIMARY KEY, entry_id TEXT NOT NULL REFERENCES registry_entries(id), created_at TEXT NOT NULL,
        kind TEXT NOT NULL, path TEXT, summary TEXT NOT NULL)""",
)


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
class StoredReport:
    """A report summary stored on an entry it covers."""

    id: str
    entry_id: str
    created_at: str
    kind: str
    path: str | None
    summary: dict[str, Any]


def read_csv(path: str | Path, *, required: tuple[str, ...]) -> tuple[list[dict[str, str]], bool]:
    """Rows of a CSV file (``#`` lines are comments) and whether a comment marks it as example data.

    Args:
        path: the file.
        required: column names it must have.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KitError(f"cannot read {path} ({exc.strerror}); pass a CSV file such as data/examples/inventory.csv") from None
    example = any(line.startswith("#") and "example data" in line.lower() for line in lines)
    reader = csv.DictReader(line for line in lines if line.strip() and not line.startswith("#"))
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    missing = [c for c in required if c not in {h.strip() for h in reader.fieldnames or ()}]
    if missing or not rows:
        raise KitError(f"{path} needs a header with columns {', '.join(required)} and at least one row "
                       f"(missing: {', '.join(missing) or 'rows'})")
    return rows, example


def _number(value: str, *, path: str, line: int, column: str, kind: type) -> Any:
    try:
        return kind(value.replace("_", "").replace(",", "")) if value else None
    except ValueError:
        raise KitError(f"{path} line {line}: {column} '{value}' is not a {kind.__name__}") from None


def _time(value: str, *, where: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?", value):
        raise KitError(f"{where}: time '{value}' is not ISO-8601 UTC such as 2026-11-29 or 2026-11-29T13:05:00Z")
    value = value.replace(" ", "T")
    return value if "T" in value else value + "T00:00:00Z"


class AdoptionTables:
    """Inventory, incidents, promotion history and stored reports (a mixin for ``Registry``)."""

    db: Any

    def _adoption_ready(self) -> bool:
        if self.db.kind == "postgres":
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return set(_TABLES) <= {row[0] for row in self.db.query(sql)}

    def _ensure_adoption(self) -> None:
        if self._adoption_ready():
            return
        with self.db.transaction():
            if self.db.kind == "postgres":
                self.db.query("SELECT pg_advisory_xact_lock(74163)")
            for statement in _DDL:
                self.db.query(statement)

    def _rows(self, table: str, columns: tuple[str, ...], where: str = "", params: tuple[Any, ...] = (),
              order: str = "") -> list[dict[str, Any]]:
        if not self._adoption_ready():
            return []
        rows = self.db.query(f"SELECT {', '.join(columns)} FROM {table} {where} {order}", params)
        return [dict(zip(columns, row)) for row in rows]

    def record_incident(self, *, entry_id: str | None, stage: str, note: str, model_ref: str | None = None,
                        occurred_at: str | None = None, by: str | None = None, source: str = "cli") -> Incident:
        """Log a regression incident against an entry (or a model with no entry).

        Args:
            entry_id: the registry entry (id or unique prefix), or None with ``model_ref``.
            stage: ``gate`` (caught before release) or ``production`` (reached users).
            note: what happened, one line.
            model_ref: the served (baseline) model; default: the entry's baseline.
            occurred_at: when, ISO-8601 UTC (default: now).
            by: who records it (default ``$USER``).
            source: ``cli`` or the CSV file it came from.
        """
        if stage not in INCIDENT_STAGES:
            raise KitError(f"incident stage '{stage}' is not one of {', '.join(INCIDENT_STAGES)}")
        if not note.strip():
            raise KitError("an incident needs a --note saying what regressed")
        entry = self.get(entry_id) if entry_id else None  # type: ignore[attr-defined]
        model = model_ref or (entry.baseline_ref or entry.model_ref if entry else None)
        if not model:
            raise KitError("an incident needs an entry id or a model")
        when = _time(occurred_at, where="incident") if occurred_at else utc_now(precise=True)
        key = f"{entry.id if entry else ''}|{model}|{stage}|{when}|{note.strip()}"
        inc = Incident(id=hashlib.sha256(key.encode()).hexdigest()[:12], entry_id=entry.id if entry else None,
                       model_ref=model, stage=stage, note=note.strip(), occurred_at=when, recorded_at=utc_now(precise=True),
                       recorded_by=by or _owner(), source=source)
        self._ensure_adoption()
        self.db.query("INSERT INTO registry_incidents (id, entry_id, model_ref, stage, note, occurred_at, recorded_at, "
                      "recorded_by, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                      tuple(dataclasses.astuple(inc)))
        return inc

    def incidents(self, *, stage: str | None = None, model_ref: str | None = None) -> list[Incident]:
        """Logged incidents, oldest first.

        Args:
            stage: only ``gate`` or ``production``.
            model_ref: only this served model.
        """
        cols = tuple(f.name for f in dataclasses.fields(Incident))
        rows = self._rows("registry_incidents", cols, order="ORDER BY occurred_at, id")
        return [Incident(**r) for r in rows if (stage is None or r["stage"] == stage)
                and (model_ref is None or r["model_ref"] == model_ref)]

    def import_incidents(self, path: str | Path) -> list[Incident]:
        """Add the incidents of a CSV log (occurred_at, model, stage, note[, entry]); re-importing adds none twice.

        Args:
            path: the CSV file.
        """
        rows, example = read_csv(path, required=_INCIDENT_COLUMNS)
        source = f"{'example:' if example else ''}{Path(path).name}"
        out = []
        for row in rows:
            out.append(self.record_incident(entry_id=row.get("entry") or None, stage=row["stage"], note=row["note"],
                                            model_ref=row["model"], occurred_at=row["occurred_at"], by="import",
                                            source=source))
        return out

    def import_inventory(self, path: str | Path) -> list[InventoryItem]:
        """Add or update the served models listed in a CSV inventory (columns: see ``INVENTORY_COLUMNS``).

        Args:
            path: the CSV file; ``use_case`` and ``serving_cost_per_day`` may be empty.
        """
        rows, example = read_csv(path, required=INVENTORY_COLUMNS[:4])
        source, now, items = f"{'example:' if example else ''}{Path(path).name}", utc_now(precise=True), []
        for i, row in enumerate(rows, start=2):
            volume = _number(row["requests_per_day"], path=str(path), line=i, column="requests_per_day", kind=int)
            if volume is None or volume < 0 or not row["model"]:
                raise KitError(f"{path} line {i}: each row needs a model and requests_per_day >= 0")
            if row["criticality"] not in CRITICALITY:
                raise KitError(f"{path} line {i}: criticality '{row['criticality']}' is not one of {', '.join(CRITICALITY)}")
            cost = _number(row.get("serving_cost_per_day", ""), path=str(path), line=i, column="serving_cost_per_day",
                           kind=float)
            items.append(InventoryItem(model_ref=row["model"], owner=row["owner"] or "unknown", requests_per_day=volume,
                                       criticality=row["criticality"], serving_cost_per_day=cost,
                                       use_case=row.get("use_case") or None, source=source, imported_at=now))
        self._ensure_adoption()
        cols = tuple(f.name for f in dataclasses.fields(InventoryItem))
        update = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        with self.db.transaction():
            for item in items:
                self.db.query(f"INSERT INTO registry_inventory ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                              f"ON CONFLICT (model_ref) DO UPDATE SET {update}", dataclasses.astuple(item))
        return items

    def inventory(self) -> list[InventoryItem]:
        """The served models, highest request volume first."""
        cols = tuple(f.name for f in dataclasses.fields(InventoryItem))
        rows = self._rows("registry_inventory", cols, order="ORDER BY requests_per_day DESC, model_ref")
        return [InventoryItem(**r) for r in rows]

    def _log_promotion(self, *, entry_id: str, alias: str, scope: str, at: str, by: str) -> None:
        # inside promote's transaction; promote calls _ensure_adoption() before it begins
        self.db.query("INSERT INTO registry_promotions (id, entry_id, alias, scope, promoted_at, promoted_by) "
                      "VALUES (?, ?, ?, ?, ?, ?)", (hashlib.sha256(f"{entry_id}|{alias}|{at}".encode()).hexdigest()[:12],
                                                    entry_id, alias, scope, at, by))

    def promotions(self) -> list[Promotion]:
        """Every promotion ever made, oldest first."""
        cols = tuple(f.name for f in dataclasses.fields(Promotion))
        return [Promotion(**r) for r in self._rows("registry_promotions", cols, order="ORDER BY promoted_at, id")]

    def attach_report(self, *, entry_ids: list[str], summary: dict[str, Any], kind: str = "pilot",
                      path: str | None = None) -> list[StoredReport]:
        """Store a report's summary on each registry entry it covers.

        Args:
            entry_ids: the entries (ids or unique prefixes).
            summary: the report's ``summary.json`` content.
            kind: ``pilot``, ``revalidation`` ...
            path: where the report was written.
        """
        ids = [self.get(e).id for e in entry_ids]  # type: ignore[attr-defined]
        now, text = utc_now(precise=True), json.dumps(summary, sort_keys=True, default=str)
        out = [StoredReport(id=hashlib.sha256(f"{i}|{kind}|{now}".encode()).hexdigest()[:12], entry_id=i, created_at=now,
                            kind=kind, path=path, summary=summary) for i in ids]
        self._ensure_adoption()
        with self.db.transaction():
            for r in out:
                self.db.query("INSERT INTO registry_reports (id, entry_id, created_at, kind, path, summary) "
                              "VALUES (?, ?, ?, ?, ?, ?)", (r.id, r.entry_id, r.created_at, r.kind, r.path, text))
        return out

    def reports(self, entry_id: str) -> list[StoredReport]:
        """The report summaries stored on an entry, oldest first.

        Args:
            entry_id: the entry (id or unique prefix).
        """
        eid = self.get(entry_id).id  # type: ignore[attr-defined]
        cols = ("id", "entry_id", "created_at", "kind", "path", "summary")
        rows = self._rows("registry_reports", cols, "WHERE entry_id = ?", (eid,), "ORDER BY created_at, id")
        return [StoredReport(**r | {"summary": json.loads(r["summary"])}) for r in rows]
