"""The registry of quantized models: what was built, how it was judged, and where it stands now.

Storage is SQLite (``$KIT_REGISTRY`` or ``~/.cache/quant-kit/registry.sqlite``) or, when
``$KIT_REGISTRY_URL`` names one, PostgreSQL with the same schema. Every gate run is kept in
a validations table; ``promote`` needs the latest validation to have passed on the current
stack, and ``stale`` lists entries last validated on another stack (:mod:`kit.govern.stack`
compares the fingerprints). The rows are :class:`Entry` and :class:`Validation`
(:mod:`kit.govern.registry_rows`); they and the stack functions stay importable from here.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError
from kit.govern._registry_db import Database, is_postgres_url
from kit.govern._registry_db import current_user as _owner
from kit.govern.adoption_db import AdoptionTables
from kit.govern.registry_rows import Entry, Validation
from kit.govern.stack import current_stack, stack_changes
from kit.io import cache_dir

__all__ = ["Entry", "Registry", "Validation", "current_stack", "default_location", "stack_changes"]

_COLUMNS = ("id", "created_at", "model_ref", "model_sha256", "baseline_ref", "baseline_sha256", "method", "bits",
            "use_case", "owner", "volume_per_day", "reason", "passed", "quant_config", "evals", "verdict", "stack")
_JSON = {"quant_config", "evals", "verdict", "stack"}


def default_location() -> str:
    """Where :meth:`Registry.open` goes without an argument: ``$KIT_REGISTRY_URL``, ``$KIT_REGISTRY``, or the cache."""
    url = os.environ.get("KIT_REGISTRY_URL")
    if url:
        if not is_postgres_url(url):
            raise KitError(f"KIT_REGISTRY_URL must be a postgresql:// URL, got '{url[:40]}'; use KIT_REGISTRY for a file")
        return url
    return os.environ.get("KIT_REGISTRY") or str(cache_dir() / "registry.sqlite")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


class Registry(AdoptionTables):
    """Quantized-model entries, validations, aliases, inventory and incidents, in SQLite or PostgreSQL."""

    def __init__(self, *, db: Database) -> None:
        """Wrap an open database; use :meth:`open` instead.

        Args:
            db: the storage connection.
        """
        self.db = db

    @classmethod
    def open(cls, url_or_path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0) -> Registry:
        """Open (creating if needed) the registry at a path or ``postgresql://`` URL.

        Args:
            url_or_path: file path or URL; default: see :func:`default_location`.
            timeout: seconds to wait for another writer's lock.
        """
        return cls(db=Database.open(str(url_or_path) if url_or_path else default_location(), timeout=timeout))

    @property
    def location(self) -> str:
        """The file path or redacted URL."""
        return self.db.where

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _entries(self, where: str = "", params: Sequence[Any] = ()) -> list[Entry]:
        rows = self.db.query(f"SELECT {', '.join(_COLUMNS)} FROM registry_entries {where} ORDER BY created_at, id", params)
        aliases: dict[str, list[str]] = {}
        for alias, entry_id in self.db.query("SELECT alias, entry_id FROM registry_aliases ORDER BY alias"):
            aliases.setdefault(entry_id, []).append(alias)
        out = []
        for row in rows:
            data = {k: (json.loads(v) if k in _JSON and v is not None else v) for k, v in zip(_COLUMNS, row)}
            out.append(Entry(**data | {"passed": bool(data["passed"]), "aliases": tuple(aliases.get(data["id"], ()))}))
        return out

    def add(
        self,
        *,
        baseline: Sequence[dict[str, Any]],
        candidate: Sequence[dict[str, Any]],
        verdict: Any,
        quant_config: dict[str, Any] | None = None,
        owner: str | None = None,
        volume_per_day: int | None = None,
        reason: str | None = None,
    ) -> Entry:
        """Register a gated candidate and record its verdict as the first validation.

        Args:
            baseline: the baseline's harness records.
            candidate: the candidate's harness records.
            verdict: its :class:`~kit.govern.gate.Verdict` (or ``to_dict()`` of one).
            quant_config: the ``kit-quantization.json`` log.
            owner: who owns it (default ``$USER``).
            volume_per_day: expected inference requests per day.
            reason: why a method other than the sanctioned default was chosen.
        """
        verdict = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
        if not candidate:
            raise KitError("registry.add needs the candidate's harness records")
        model = candidate[0]["model"]
        base = model.get("baseline") or {}
        values = {
            "id": uuid.uuid4().hex[:12], "created_at": utc_now(precise=True),
            "model_ref": model["ref"], "model_sha256": model.get("sha256"),
            "baseline_ref": base.get("ref"), "baseline_sha256": base.get("sha256"), "method": model.get("method", "none"),
            "bits": model.get("bits"), "use_case": verdict["use_case"], "owner": owner or _owner(),
            "volume_per_day": volume_per_day, "reason": reason, "passed": int(bool(verdict["passed"])),
            "quant_config": quant_config, "evals": {"baseline": list(baseline), "candidate": list(candidate)},
            "verdict": verdict, "stack": verdict.get("stack") or {},
        }
        row = [_dump(values[k]) if k in _JSON else values[k] for k in _COLUMNS]
        with self.db.transaction():
            self.db.query(f"INSERT INTO registry_entries ({', '.join(_COLUMNS)}) "
                          f"VALUES ({', '.join('?' * len(_COLUMNS))})", row)
            self._insert_validation(entry_id=values["id"], verdict=verdict, stack=values["stack"], evals=None,
                                    kind="register")
        return self.get(values["id"])

    def _insert_validation(self, *, entry_id: str, verdict: dict[str, Any], stack: dict[str, Any],
                           evals: dict[str, Any] | None, kind: str) -> Validation:
        v = Validation(id=uuid.uuid4().hex[:12], entry_id=entry_id, created_at=utc_now(precise=True), kind=kind,
                       passed=bool(verdict["passed"]), verdict=verdict, stack=stack, evals=evals)
        self.db.query("INSERT INTO registry_validations (id, entry_id, created_at, kind, passed, verdict, stack, evals) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (v.id, v.entry_id, v.created_at, v.kind, int(v.passed), _dump(verdict), _dump(stack), _dump(evals)))
        return v

    def get(self, entry_id: str) -> Entry:
        """One entry by id or unique id prefix.

        Args:
            entry_id: the id (or its first characters).
        """
        found = self._entries("WHERE id LIKE ?", (entry_id.replace("%", "").replace("_", "") + "%",)) if entry_id else []
        exact = [e for e in found if e.id == entry_id]
        if exact or len(found) == 1:
            return (exact or found)[0]
        if not found:
            raise KitError(f"no registry entry '{entry_id}' in {self.location}; list entries with `kit registry list`")
        raise KitError(f"'{entry_id}' matches {len(found)} entries; give more characters of the id")

    def list(self, *, use_case: str | None = None) -> list[Entry]:
        """All entries, oldest first.

        Args:
            use_case: only this use case.
        """
        return self._entries("WHERE use_case = ?", (use_case,)) if use_case else self._entries()

    def find(self, model_ref: str) -> list[Entry]:
        """Entries of a model: its own ref/hash, or quantized from it (so work can be reused).

        Args:
            model_ref: an alias, folder or sha256 of a baseline or a quantized artifact.
        """
        refs = {model_ref, str(Path(model_ref).expanduser().resolve())}
        marks = ", ".join("?" * len(refs))
        return self._entries(f"WHERE model_ref IN ({marks}) OR baseline_ref IN ({marks}) OR model_sha256 = ? "
                             "OR baseline_sha256 = ?", (*refs, *refs, model_ref, model_ref))

    def _validations(self, where: str, params: Sequence[Any], *, evals: bool) -> list[Validation]:
        columns = f"id, entry_id, created_at, kind, passed, verdict, stack, {'evals' if evals else 'NULL'}"
        rows = self.db.query(f"SELECT {columns} FROM registry_validations {where} ORDER BY created_at, id", params)
        return [Validation(id=r[0], entry_id=r[1], created_at=r[2], kind=r[3], passed=bool(r[4]), verdict=json.loads(r[5]),
                           stack=json.loads(r[6]), evals=json.loads(r[7]) if r[7] else None) for r in rows]

    def validations(self, entry_id: str) -> list[Validation]:
        """An entry's validation history, oldest first.

        Args:
            entry_id: the entry id (or unique prefix).
        """
        return self._validations("WHERE entry_id = ?", (self.get(entry_id).id,), evals=True)

    def latest_validations(self) -> dict[str, Validation]:
        """Each entry's most recent validation (without its eval records), by entry id."""
        return {v.entry_id: v for v in self._validations("", (), evals=False)}

    def record_validation(
        self, *, entry_id: str, verdict: Any, stack: dict[str, Any] | None = None,
        evals: dict[str, Any] | None = None, kind: str = "revalidate",
    ) -> Validation:
        """Append a gate run to an entry's history.

        Args:
            entry_id: the entry.
            verdict: the new :class:`~kit.govern.gate.Verdict` (or its dict).
            stack: the fingerprint it ran on (default: the verdict's).
            evals: the fresh records ``{"baseline": [...], "candidate": [...]}``.
            kind: ``revalidate`` or ``register``.
        """
        verdict = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
        entry = self.get(entry_id)
        with self.db.transaction():
            return self._insert_validation(entry_id=entry.id, verdict=verdict, stack=stack or verdict.get("stack") or {},
                                           evals=evals, kind=kind)

    def promote(self, entry_id: str, *, alias: str = "champion", stack: dict[str, Any] | None = None,
                by: str | None = None) -> Entry:
        """Point ``alias`` (per baseline and use case) at an entry whose latest validation passed on this stack.

        Args:
            entry_id: the entry.
            alias: the alias to set, e.g. ``champion``.
            stack: the current stack fingerprint (default: measured now).
            by: who promotes (default ``$USER``).
        """
        entry = self.get(entry_id)
        stack = stack if stack is not None else current_stack()
        self._ensure_adoption()
        with self.db.transaction():
            history = self._validations("WHERE entry_id = ?", (entry.id,), evals=False)
            if not history:
                raise KitError(f"entry {entry.id} has no validation; run `kit revalidate {entry.id}` first")
            latest = history[-1]
            changes = stack_changes(recorded=latest.stack, current=stack)
            if changes:
                raise KitError(f"entry {entry.id} was last validated on another stack ({'; '.join(changes)}); "
                               f"run `kit revalidate {entry.id}` first")
            if not latest.passed:
                raise KitError(f"entry {entry.id} {latest.outcome()} ({latest.created_at}); only a passing "
                               "model can be promoted — see `kit registry show " + entry.id + "`")
            self.db.query("INSERT INTO registry_aliases (alias, scope, entry_id, set_at, set_by) VALUES (?, ?, ?, ?, ?) "
                          "ON CONFLICT (alias, scope) DO UPDATE SET entry_id = excluded.entry_id, "
                          "set_at = excluded.set_at, set_by = excluded.set_by",
                          (alias, f"{entry.baseline_ref}/{entry.use_case}", entry.id, utc_now(precise=True), by or _owner()))
            self._log_promotion(entry_id=entry.id, alias=alias, scope=f"{entry.baseline_ref}/{entry.use_case}",
                                at=utc_now(precise=True), by=by or _owner())
        return self.get(entry.id)

    def stale(self, current: dict[str, Any]) -> list[Entry]:
        """Entries whose latest validation ran on different package versions or hardware.

        Args:
            current: the current stack fingerprint (see :func:`current_stack`).
        """
        latest = self.latest_validations()
        return [e for e in self._entries() if stack_changes(recorded=latest[e.id].stack, current=current)]
