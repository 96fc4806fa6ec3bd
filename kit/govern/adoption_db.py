"""The registry's adoption tables: the model inventory, the incident log, promotions and stored reports.

They live in the same SQLite file or PostgreSQL schema as the entries (same portable DDL) and are
created on first write, so registries made before them keep working and a read-only open reads
an absent table as empty. :class:`AdoptionTables` is mixed into :class:`~kit.govern.registry.Registry`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError
from kit.govern._registry_db import current_user as _owner
from kit.govern.adoption_csv import INCIDENT_STAGES, parse_time, read_incidents, read_inventory
from kit.govern.adoption_rows import ImportBatch, Incident, InventoryItem, Promotion, StoredReport

__all__ = ["AdoptionTables", "ImportBatch", "Incident", "InventoryItem", "Promotion", "StoredReport"]

_TABLES = ("registry_inventory", "registry_incidents", "registry_promotions", "registry_reports", "registry_imports")
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
    """CREATE TABLE IF NOT EXISTS registry_imports (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, imported_at TEXT NOT NULL,
        imported_by TEXT NOT NULL, row_count INTEGER NOT NULL, undo TEXT NOT NULL, undone_at TEXT)""",
)


class AdoptionTables:
    """Inventory, incidents, promotion history and stored reports (a mixin for ``Registry``)."""

    db: Any

    def _adoption_ready(self, *tables: str) -> bool:
        if self.db.kind == "postgres":
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return set(tables or _TABLES) <= {row[0] for row in self.db.query(sql)}

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
        if not self._adoption_ready(table):  # a registry older than the table, opened read-only: empty
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
        when = parse_time(occurred_at, where="incident --at") if occurred_at else utc_now(precise=True)
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

    def _batch(self, *, kind: str, source: str, at: str, rows: int, undo: dict[str, Any]) -> ImportBatch:
        # inside the import's transaction
        batch = ImportBatch(id=hashlib.sha256(f"{kind}|{source}|{at}".encode()).hexdigest()[:10], kind=kind,
                            source=source, imported_at=at, imported_by=_owner(), row_count=rows, undone_at=None)
        self.db.query("INSERT INTO registry_imports (id, kind, source, imported_at, imported_by, row_count, undo, undone_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", (*dataclasses.astuple(batch)[:6], json.dumps(undo)))
        return batch

    def import_incidents(self, path: str | Path) -> tuple[list[Incident], ImportBatch]:
        """Add the incidents of a CSV log (occurred_at, model, stage, note[, entry]); re-importing adds none twice.

        Args:
            path: the CSV file (read and checked whole before anything is written).
        """
        rows, example = read_incidents(path)
        source, now = f"{'example:' if example else ''}{Path(path).name}", utc_now(precise=True)
        for row in rows:
            if row["entry"]:
                self.get(row["entry"])  # type: ignore[attr-defined]  # an unknown entry fails before any write
        self._ensure_adoption()
        out, added = [], []
        with self.db.transaction():
            for row in rows:
                known = {i.id for i in self.incidents(model_ref=row["model"])}
                inc = self.record_incident(entry_id=row["entry"], stage=row["stage"], note=row["note"],
                                           model_ref=row["model"], occurred_at=row["occurred_at"], by="import",
                                           source=source)
                out.append(inc)
                if inc.id not in known and inc.id not in added:
                    added.append(inc.id)
            batch = self._batch(kind="incidents", source=source, at=now, rows=len(added), undo={"incidents": added})
        return out, batch

    def import_inventory(self, path: str | Path) -> tuple[list[InventoryItem], ImportBatch]:
        """Add or update the served models listed in a CSV inventory (columns: see ``INVENTORY_COLUMNS``).

        Args:
            path: the CSV file (read and checked whole before anything is written).
        """
        rows, example = read_inventory(path)
        source, now = f"{'example:' if example else ''}{Path(path).name}", utc_now(precise=True)
        items = [InventoryItem(model_ref=r["model"], owner=r["owner"], requests_per_day=r["requests_per_day"],
                               criticality=r["criticality"], serving_cost_per_day=r["serving_cost_per_day"],
                               use_case=r["use_case"], source=source, imported_at=now) for r in rows]
        self._ensure_adoption()
        cols = tuple(f.name for f in dataclasses.fields(InventoryItem))
        update = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        with self.db.transaction():
            before = {i.model_ref: dataclasses.asdict(i) for i in self.inventory()}
            for item in items:
                self.db.query(f"INSERT INTO registry_inventory ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                              f"ON CONFLICT (model_ref) DO UPDATE SET {update}", dataclasses.astuple(item))
            batch = self._batch(kind="inventory", source=source, at=now, rows=len(items),
                                undo={"inventory": [{"model": i.model_ref, "before": before.get(i.model_ref)}
                                                    for i in items]})
        return items, batch

    def imports(self) -> list[ImportBatch]:
        """Every CSV import, oldest first (undone ones carry ``undone_at``)."""
        cols = tuple(f.name for f in dataclasses.fields(ImportBatch))
        return [ImportBatch(**r) for r in self._rows("registry_imports", cols, order="ORDER BY imported_at, id")]

    def undo_import(self, batch_id: str) -> tuple[ImportBatch, int, int]:
        """Take back one import: remove the rows it added, restore the inventory rows it changed.

        A row a later import changed again is kept (undo that import first). Returns the batch,
        the rows removed or restored, and the rows kept.

        Args:
            batch_id: the import's id (or a unique prefix), as ``kit registry import`` printed it.
        """
        found = [b for b in self.imports() if b.id.startswith(batch_id.strip())] if batch_id.strip() else []
        if len(found) != 1:
            raise KitError(f"{'no' if not found else 'more than one'} import '{batch_id}' in this registry; "
                           "list them with `kit registry import --list`")
        batch = found[0]
        if batch.undone_at:
            raise KitError(f"import {batch.id} was already undone at {batch.undone_at}")
        undo = json.loads(self.db.query("SELECT undo FROM registry_imports WHERE id = ?", (batch.id,))[0][0])
        cols = tuple(f.name for f in dataclasses.fields(InventoryItem))
        done = kept = 0
        with self.db.transaction():
            for inc in undo.get("incidents", []):
                if self.db.query("SELECT 1 FROM registry_incidents WHERE id = ?", (inc,)):
                    self.db.query("DELETE FROM registry_incidents WHERE id = ?", (inc,))
                    done += 1
            for row in undo.get("inventory", []):
                if not self.db.query("SELECT 1 FROM registry_inventory WHERE model_ref = ? AND imported_at = ?",
                                     (row["model"], batch.imported_at)):
                    kept += 1  # changed (or removed) since: a later import owns it now
                    continue
                self.db.query("DELETE FROM registry_inventory WHERE model_ref = ?", (row["model"],))
                if row["before"]:
                    self.db.query(f"INSERT INTO registry_inventory ({', '.join(cols)}) VALUES "
                                  f"({', '.join('?' * len(cols))})", tuple(row["before"][c] for c in cols))
                done += 1
            self.db.query("UPDATE registry_imports SET undone_at = ? WHERE id = ?", (utc_now(precise=True), batch.id))
        return batch, done, kept

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
