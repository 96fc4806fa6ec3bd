"""The registry's storage: one portable schema on SQLite (WAL, busy timeout) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["SCHEMA_VERSION", "Database", "current_user", "is_postgres_url", "writable"]

SCHEMA_VERSION = "1"
_BESIDE = ("-wal", "-shm")  # files SQLite keeps beside a WAL-mode database
_TABLES = ("registry_meta", "registry_entries", "registry_validations", "registry_aliases")
# Portable DDL: TEXT/INTEGER only, JSON stored as TEXT, times as ISO-8601 UTC text (sortable).
_DDL = (
    "CREATE TABLE IF NOT EXISTS registry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS registry_entries (
        id TEXT PRIMARY KEY, created_at TEXT NOT NULL,
        model_ref TEXT NOT NULL, model_sha256 TEXT, baseline_ref TEXT, baseline_sha256 TEXT,
        method TEXT NOT NULL, bits INTEGER, use_case TEXT NOT NULL, owner TEXT NOT NULL,
        volume_per_day INTEGER, reason TEXT, passed INTEGER NOT NULL,
        quant_config TEXT, evals TEXT NOT NULL, verdict TEXT NOT NULL, stack TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS registry_validations (
        id TEXT PRIMARY KEY, entry_id TEXT NOT NULL REFERENCES registry_entries(id),
        created_at TEXT NOT NULL, kind TEXT NOT NULL, passed INTEGER NOT NULL,
        verdict TEXT NOT NULL, stack TEXT NOT NULL, evals TEXT)""",
    """CREATE TABLE IF NOT EXISTS registry_aliases (
        alias TEXT NOT NULL, scope TEXT NOT NULL, entry_id TEXT NOT NULL REFERENCES registry_entries(id),
        set_at TEXT NOT NULL, set_by TEXT NOT NULL, PRIMARY KEY (alias, scope))""",
    "CREATE INDEX IF NOT EXISTS registry_validations_entry ON registry_validations (entry_id, created_at)",
    "CREATE INDEX IF NOT EXISTS registry_entries_baseline ON registry_entries (baseline_ref)",
)


def current_user() -> str:
    """Who is acting, for owner/by columns: ``$USER``, the login name, or ``unknown`` (containers)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (containers)
        return "unknown"


def writable(path: Path) -> bool:
    """Whether the registry file and its folder can be written (SQLite writes its journal beside the file).

    Args:
        path: the registry file.
    """
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` is a PostgreSQL URL rather than a file path.

    Args:
        target: a path or URL.
    """
    return target.startswith(("postgresql://", "postgres://"))


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class Database:
    """A connection that speaks ``?`` placeholders on both backends and maps errors to :class:`KitError`."""

    def __init__(self, *, conn: Any, kind: str, where: str, timeout: float) -> None:
        """Wrap an open connection; use :meth:`open` instead.

        Args:
            conn: a sqlite3 or psycopg connection in autocommit mode.
            kind: ``sqlite`` or ``postgres``.
            where: the path or redacted URL, for messages.
            timeout: seconds to wait for locks.
        """
        self.conn, self.kind, self.where, self.timeout = conn, kind, where, timeout

    @classmethod
    def open(cls, target: str | Path, *, timeout: float) -> Database:
        """Connect to a SQLite file or a PostgreSQL URL and make sure the schema exists.

        Args:
            target: a file path or ``postgresql://`` URL.
            timeout: seconds to wait for a lock before giving up.
        """
        target = str(target)
        if is_postgres_url(target):
            db = cls(conn=None, kind="postgres", where=_redact(target), timeout=timeout)
            with db.errors():
                import psycopg

                db.conn = psycopg.connect(target, autocommit=True, connect_timeout=max(1, int(timeout)))
                db.conn.execute(f"SET lock_timeout = {int(timeout * 1000)}")
        else:
            path = Path(target).expanduser()
            db = cls(conn=None, kind="sqlite", where=str(path), timeout=timeout)
            if path.is_dir():
                raise KitError(f"registry path {path} is a folder; give a file such as {path / 'registry.sqlite'}")
            if path.is_file() and path.stat().st_size > 0:
                cls._prove_ours(path, timeout=timeout)  # read-only first: a foreign file is never changed
                if not writable(path):  # a read-only folder or file: still listed, never written
                    db.conn = cls._connect_ro(path, timeout=timeout)
                    return db
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise KitError(f"cannot create the registry folder {path.parent} ({exc.strerror}); "
                               "set KIT_REGISTRY to a writable file") from None
            with db.errors():
                db.conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
                db.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                db.conn.execute("PRAGMA journal_mode = WAL")  # a corrupt file fails here
                db.conn.execute("PRAGMA foreign_keys = ON")
        try:
            db._ensure_schema()
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def _connect_ro(cls, path: Path, *, timeout: float) -> Any:
        """A read-only connection; in a folder it cannot write, ``immutable`` unless a write-ahead log exists."""
        fixed = not writable(path) and not any(Path(f"{path}{suffix}").exists() for suffix in _BESIDE)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{'&immutable=1' if fixed else ''}", uri=True,
                               timeout=timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return conn

    @classmethod
    def _prove_ours(cls, path: Path, *, timeout: float) -> None:
        """Open an existing SQLite file read-only and refuse it unless it is a kit registry; nothing is left beside it."""
        beside = [Path(f"{path}{suffix}") for suffix in _BESIDE]
        before = [p.exists() for p in beside]
        probe = cls(conn=None, kind="sqlite", where=str(path), timeout=timeout)
        try:
            with probe.errors():
                probe.conn = cls._connect_ro(path, timeout=timeout)
            probe._schema_ready()  # reads sqlite_master and registry_meta only; raises for a foreign file
        except BaseException:
            probe.close()
            for p, existed in zip(beside, before):  # a WAL header makes even a read-only open create these
                if not existed:
                    with contextlib.suppress(OSError):
                        p.unlink()
            raise
        finally:
            probe.close()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn driver errors into one-line :class:`KitError` messages."""
        try:
            yield
        except KitError:
            raise
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise KitError(f"registry {self.where} is locked by another process (waited {self.timeout:g} s); "
                               "retry when it finishes or raise the timeout") from None
            raise KitError(f"registry {self.where}: {text}; check the path and its permissions (KIT_REGISTRY)") from None
        except sqlite3.DatabaseError as exc:
            raise KitError(f"{self.where} is not a readable kit registry ({exc}); it was left untouched: "
                           "move it aside or set KIT_REGISTRY to another file") from None
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "psycopg":
                raise
            import psycopg

            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                raise KitError(f"registry {self.where} is locked by another session (waited {self.timeout:g} s); "
                               "retry when it finishes") from None
            if isinstance(exc, psycopg.OperationalError):
                raise KitError(f"cannot use PostgreSQL registry {self.where} ({first}); check KIT_REGISTRY_URL "
                               "and that the server is running") from None
            raise KitError(f"PostgreSQL registry {self.where}: {first}") from None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgres" else sql

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return all rows.

        Args:
            sql: SQL with ``?`` placeholders.
            params: values for the placeholders.
        """
        with self.errors():
            cur = self.conn.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall()) if cur.description else []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """All statements in the block commit together or not at all (write lock taken up front)."""
        with self.errors():
            if self.kind == "postgres":
                with self.conn.transaction():
                    yield self
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise

    def _tables(self) -> set[str]:
        if self.kind == "postgres":
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {row[0] for row in self.query(sql)}

    def _schema_ready(self) -> bool:
        tables = self._tables()
        ours = tables if self.kind == "sqlite" else tables & set(_TABLES)  # a shared PG schema may hold others
        if ours and "registry_meta" not in tables:
            raise KitError(f"{self.where} holds tables but no registry_meta, so it is not a kit registry; "
                           "point KIT_REGISTRY (or KIT_REGISTRY_URL) elsewhere")
        if not set(_TABLES) <= tables:
            return False
        rows = self.query("SELECT value FROM registry_meta WHERE key = 'schema_version'")
        if not rows or rows[0][0] != SCHEMA_VERSION:
            raise KitError(f"registry {self.where} has schema version {rows[0][0] if rows else 'none'}, this kit "
                           f"reads {SCHEMA_VERSION}; use a matching kit version")
        return True

    def _ensure_schema(self) -> None:
        # Check first without locking: DDL on a live registry would take table locks that deadlock writers.
        if self._schema_ready():
            return
        with self.transaction():
            if self.kind == "postgres":  # serialise concurrent first-time creation
                self.query("SELECT pg_advisory_xact_lock(74163)")
            if self._schema_ready():
                return
            for statement in _DDL:
                self.query(statement)
            self.query("INSERT INTO registry_meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
