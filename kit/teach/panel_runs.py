"""Pilot-panel runs that outlive the browser: a run folder with a status file, the result, and a log.

A run writes ``panel-status.json`` (atomically, at every stage), ``result.json`` when it ends
and ``run.log`` (library warnings and logs, via :func:`kit.console.quiet_libraries`) into its
own folder under the runs dir; the pilot's artifacts go into the same folder and its entries
into the registry. Any panel, in any browser tab or a new kernel, shows a run by reading these
files, so reloading the page or re-running the cell never loses the outcome. A run can be
cancelled: the flag is checked at every stage line and every tick of the kit's progress bars,
where stopping leaves nothing half-written (artifacts are written to a temp folder and renamed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kit.clock import folder_stamp
from kit.console import on_stage, quiet_libraries
from kit.errors import KitError
from kit.io import atomic_write_json, runs_dir

__all__ = ["LOG_FILE", "RESULT_FILE", "STATUS_FILE", "STATUS_SCHEMA", "PanelRun", "RunCancelled", "active_run",
           "latest_run", "read_result", "read_status", "start_run"]

STATUS_SCHEMA = "kit.panel-run/1"
STATUS_FILE, RESULT_FILE, LOG_FILE = "panel-status.json", "result.json", "run.log"
_PREFIX = "panel-"
_LINES = 12  # stage lines kept in the status file
_ACTIVE: dict[str, PanelRun] = {}  # run folder → the run going on in this process
_LOCK = threading.Lock()


class RunCancelled(Exception):
    """Raised inside a run's thread at a safe point after Cancel was pressed."""


@dataclasses.dataclass
class PanelRun:
    """One run: its folder, the cancel flag, its thread, and the latest progress-bar tick."""

    dir: Path
    cancel: threading.Event
    thread: threading.Thread | None = None
    bar: tuple[str, int, int] | None = None  # the latest tick of a kit progress bar: (what, done, total)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the run's thread (if any) and return its final status.

        Args:
            timeout: seconds to wait at most.
        """
        if self.thread is not None:
            self.thread.join(timeout)
        return read_status(self.dir) or {}


def read_status(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A run's status (``state`` running/done/failed/cancelled/interrupted), or None without one.

    A ``running`` status whose process is gone reads as ``interrupted``.

    Args:
        run_dir: the run folder.
    """
    try:
        status = json.loads((Path(run_dir) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if status.get("state") == "running" and not _alive(status.get("pid")):
        status["state"] = "interrupted"
    return status


def read_result(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The result a finished run wrote, or None.

    Args:
        run_dir: the run folder.
    """
    try:
        return json.loads((Path(run_dir) / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None


def latest_run(*, runs_root: str | os.PathLike[str] | None = None) -> Path | None:
    """The newest panel run folder under ``runs_root`` (default :func:`kit.io.runs_dir`), or None.

    Args:
        runs_root: where panel runs live.
    """
    root = Path(runs_root) if runs_root is not None else runs_dir()
    runs = [p.parent for p in root.glob(f"{_PREFIX}*/{STATUS_FILE}")] if root.is_dir() else []
    return max(runs, key=lambda p: (p / STATUS_FILE).stat().st_mtime if (p / STATUS_FILE).exists() else 0,
               default=None)


def active_run() -> PanelRun | None:
    """The run going on in this process, if any (one at a time)."""
    with _LOCK:
        return next(iter(_ACTIVE.values()), None)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_dir(root: Path, label: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    stamp = folder_stamp()
    for i in range(100):
        path = root / f"{_PREFIX}{label}-{stamp}" if i == 0 else root / f"{_PREFIX}{label}-{stamp}-{i}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise KitError(f"cannot make a new run folder in {root}; clean up old {_PREFIX}* folders")


@contextlib.contextmanager
def _progress_hook(run: PanelRun) -> Iterator[None]:
    """While the block runs, every tqdm iteration in this thread records its tick and checks the cancel flag.

    tqdm's iterator is wrapped for the run's duration (all bars iterate through it, shown or
    disabled); ticks from other threads pass through untouched.
    """
    from tqdm import std

    original, thread = std.tqdm.__iter__, threading.get_ident()

    def ticking(bar: Any) -> Iterator[Any]:
        for done, obj in enumerate(original(bar)):
            if threading.get_ident() == thread:
                if run.cancel.is_set():
                    raise RunCancelled()
                if getattr(bar, "total", None):
                    run.bar = (getattr(bar, "desc", "") or "progress", done, int(bar.total))
            yield obj

    std.tqdm.__iter__ = ticking
    try:
        yield
    finally:
        std.tqdm.__iter__ = original


def start_run(
    *,
    work: Callable[[Path], dict[str, Any]],
    label: str,
    selection: dict[str, Any],
    runs_root: str | os.PathLike[str] | None = None,
    background: bool = True,
) -> PanelRun:
    """Start ``work(run_dir)`` in a new run folder, recording status, result and log there.

    Args:
        work: the run (the pilot flow with the panel's choices); gets the folder for its artifacts.
        label: a short name for the folder (model and use case).
        selection: what the user chose, stored in the status file.
        runs_root: where run folders go (default :func:`kit.io.runs_dir`).
        background: run in a thread (the panel) or right here (tests, scripts).
    """
    with _LOCK:
        if _ACTIVE:
            raise KitError(f"a run is already going on in {next(iter(_ACTIVE))}; wait for it or cancel it")
        run = PanelRun(dir=_new_dir(Path(runs_root) if runs_root is not None else runs_dir(), label),
                       cancel=threading.Event())
        _ACTIVE[str(run.dir)] = run
    now = time.time()
    status: dict[str, Any] = {"schema": STATUS_SCHEMA, "state": "running", "pid": os.getpid(), "started": now,
                              "updated": now, "stage": "starting", "message": "loading the baseline",
                              "selection": selection, "log": str(run.dir / LOG_FILE), "result": None,
                              "error": None, "lines": []}
    atomic_write_json(run.dir / STATUS_FILE, status)

    def on_line(name: str, message: str) -> None:
        if threading.current_thread() is not worker:
            return
        status.update(stage=name, message=message, updated=time.time(),
                      lines=[*status["lines"], f"[{name}] {message}"][-_LINES:])
        atomic_write_json(run.dir / STATUS_FILE, status)
        if run.cancel.is_set():
            raise RunCancelled()

    def body() -> None:
        (run.dir / LOG_FILE).touch()  # the panel's "details" shows it from the start, empty until a library speaks
        try:
            with quiet_libraries(run.dir / LOG_FILE), on_stage(on_line):
                with _progress_hook(run):
                    result = work(run.dir)
                atomic_write_json(run.dir / RESULT_FILE, result)
            status.update(state="done", result=RESULT_FILE)
        except RunCancelled:
            status.update(state="cancelled", message="cancelled; nothing half-written was kept")
        except KitError as exc:
            status.update(state="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the panel, the traceback goes to the log
            status.update(state="failed", error=f"{type(exc).__name__}: {exc} (details in {LOG_FILE})")
            with open(run.dir / LOG_FILE, "a", encoding="utf-8") as f:
                f.write(traceback.format_exc())
        finally:
            status.update(updated=time.time(), finished=time.time())
            atomic_write_json(run.dir / STATUS_FILE, status)
            with _LOCK:
                _ACTIVE.pop(str(run.dir), None)

    if background:
        worker = threading.Thread(target=body, name=f"kit-panel-{run.dir.name}", daemon=True)
        run.thread = worker
        worker.start()
    else:
        worker = threading.current_thread()
        body()
    return run
