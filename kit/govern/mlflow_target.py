"""The MLflow tracking URI: checked before any work (installed, reachable, writable, MLflow's own), secrets masked.

A tracking URI may carry credentials (``https://user:token@host``, ``?token=...``); every
message the kit prints shows it through :func:`mask_uri`. MLflow's own log lines (database
migrations, retries) are kept out of the terminal by :func:`quiet_mlflow`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kit.errors import KitError

__all__ = ["MLFLOW_URI_ENV", "artifact_root", "mask_uri", "mlflow_errors", "open_client", "quiet_mlflow"]

#: The setting that makes pilots mirror each entry into MLflow as they register it.
MLFLOW_URI_ENV = "KIT_MLFLOW_URI"
_INSTALL = "pip install 'quant-kit[mlflow]' (or: pip install -c constraints.txt mlflow)"
_LOGGERS = ("mlflow", "alembic", "urllib3", "sqlalchemy")
_LIBRARIES = ("mlflow", "sqlalchemy", "alembic", "requests", "urllib3", "sqlite3", "builtins")


def mask_uri(uri: str) -> str:
    """The URI with any ``user:password@`` and secret-looking query values replaced by ``***``.

    Args:
        uri: a tracking URI.
    """
    text = re.sub(r"(://)[^/@\s]*@", r"\1***@", uri.strip())
    return re.sub(r"(?i)([?&;](?:[a-z_]*token|password|passwd|pwd|secret|key|sig|signature)=)[^&;\s]*", r"\1***", text)


@contextlib.contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines (``Creating initial MLflow database tables`` …) and warnings stay out of the terminal."""
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def mlflow_errors(uri: str) -> Iterator[None]:
    """MLflow, database and network errors become one-line :class:`KitError` messages (secrets masked).

    Args:
        uri: the tracking URI, for the message.
    """
    try:
        yield
    except KitError:
        raise
    except Exception as exc:  # filtered below: only what the libraries MLflow speaks through raise
        if type(exc).__module__.split(".")[0] not in _LIBRARIES and not isinstance(exc, OSError):
            raise
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        code = getattr(exc, "error_code", "")
        fix = ("the server refused a write: use a URI (or credentials) with write access" if code == "PERMISSION_DENIED"
               else "check the URI, that the server is running and that the store is writable")
        raise KitError(f"MLflow at {mask_uri(uri)}: {mask_uri(text)}; {fix}") from None


def _sqlite_path(uri: str) -> str:
    return (uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else "").split("?")[0]


def artifact_root(uri: str) -> str | None:
    """Where new experiments keep artifacts: beside an SQLite store (``mlflow-artifacts/``); the server's default otherwise.

    Without it MLflow would write ``./mlruns`` into whatever folder the command runs in.

    Args:
        uri: the tracking URI.
    """
    raw = _sqlite_path(uri.strip()) if urlsplit(uri.strip()).scheme.lower() == "sqlite" else ""
    return (Path(raw).expanduser().resolve().parent / "mlflow-artifacts").as_uri() if raw else None


def _check_sqlite(uri: str) -> None:
    raw = _sqlite_path(uri)
    if not raw or raw.startswith(":memory:"):
        raise KitError(f"MLflow URI {mask_uri(uri)} names no database file; use sqlite:///path/to/mlflow.db")
    path = Path(raw).expanduser()
    if not path.parent.is_dir():
        raise KitError(f"MLflow store folder {path.parent} does not exist; create it or point the URI elsewhere")
    writable = path.parent if not path.exists() else path
    if not (writable.is_dir() or writable.is_file()) or not _can_write(writable):
        raise KitError(f"MLflow store {path} is read-only; use a writable file (sqlite:///path/to/mlflow.db)")
    if path.is_file() and path.stat().st_size > 0:
        try:  # read-only look first: a database that is not MLflow's is never migrated
            with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise KitError(f"{path} is not an SQLite database ({exc}); point the MLflow URI at another file") from None
        if tables and not {"experiments", "alembic_version"} <= tables:
            raise KitError(f"{path} is an SQLite database that MLflow did not create (it would be migrated); "
                           "point the MLflow URI at another file")


def _can_write(path: Path) -> bool:
    return os.access(path, os.W_OK) and (path.is_dir() or os.access(path.parent, os.W_OK))


def _check_http(uri: str) -> None:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    bare = urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path.rstrip("/") + "/health",
                       "", ""))
    try:
        with urllib.request.urlopen(bare, timeout=5):
            pass
    except urllib.error.HTTPError:
        return  # it answered: reachable (a proxy may guard /health)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KitError(f"cannot reach MLflow at {mask_uri(uri)} ({reason}); start the server or fix the URI "
                       f"(--mlflow or {MLFLOW_URI_ENV})") from None


def open_client(tracking_uri: str | None) -> Any:
    """An ``MlflowClient`` for tracking and registry at ``tracking_uri``, after checking it can be used.

    Args:
        tracking_uri: ``sqlite:///file.db``, ``http(s)://host:port``, a ``file:`` folder or any URI MLflow takes.
    """
    uri = (tracking_uri or "").strip()
    if not uri:
        raise KitError(f"no MLflow tracking URI: give --mlflow URI or set {MLFLOW_URI_ENV} (e.g. sqlite:///mlflow.db)")
    try:
        import mlflow  # noqa: F401 — presence check; the client is imported below
    except ImportError:
        raise KitError(f"MLflow is not installed; {_INSTALL}") from None
    scheme = urlsplit(uri).scheme.lower()
    if scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in ("http", "https"):
        _check_http(uri)
    elif scheme in ("", "file"):
        folder = Path(urlsplit(uri).path if scheme else uri).expanduser()
        if folder.exists() and not _can_write(folder):
            raise KitError(f"MLflow store {folder} is read-only; use a writable folder")
    with quiet_mlflow(), mlflow_errors(uri):
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_experiments(max_results=1)  # connects (and creates an empty SQLite store)
    return client
