"""What killed kit runs leave behind, found and removed: lock files and partial folders of dead processes.

Only names the kit gives are touched (``.<name>.lock`` holding a pid, ``.<name>.partial-<pid>-<random>``),
and only when that process no longer runs; anything else is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from pathlib import Path

__all__ = ["clean_stale", "clean_stale_partials", "pid_alive", "remove_stale_lock"]

_PARTIAL = re.compile(r"^(\d+)-[A-Za-z0-9_]+$")  # what follows ".<name>.partial-": "<pid>-<random>"
_LOCK = re.compile(r"^\.(.+)\.lock$")  # kit.io.writer_lock's file beside a target: ".<name>.lock"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (one of another user's counts as running).

    Args:
        pid: the process id.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else
    return True


def clean_stale_partials(path: str | os.PathLike[str]) -> list[Path]:
    """Delete ``.<name>.partial-<pid>-*`` folders beside ``path`` left by kit processes that no longer run.

    Only folders named by :func:`atomic_dir` (with a pid) are touched; anything else is left alone.

    Args:
        path: the target folder whose interrupted writes to clean.
    """
    path = Path(path).expanduser()
    prefix = f".{path.name}.partial-"
    removed = []
    with contextlib.suppress(OSError):
        for p in path.parent.iterdir():
            m = _PARTIAL.match(p.name[len(prefix):]) if p.name.startswith(prefix) else None
            if m and p.is_dir() and not p.is_symlink() and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def remove_stale_lock(lock: Path) -> bool:
    """Remove ``lock`` when no process holds it and the pid written in it is gone; True when removed.

    Args:
        lock: a ``.<name>.lock`` file written by :func:`kit.io.writer_lock`.
    """
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            return False
        if os.stat(lock).st_ino != os.fstat(fd).st_ino:
            return False
        os.unlink(lock)  # while holding it, as writer_lock does
        return True
    except OSError:
        return False  # held by a running writer
    finally:
        os.close(fd)


def clean_stale(folder: str | os.PathLike[str], *, depth: int = 2) -> list[Path]:
    """Delete the lock files and partial folders that killed kit runs left in ``folder`` (and ``depth`` levels below).

    Only names the kit gives (``.<name>.lock`` holding a dead pid and held by nobody,
    ``.<name>.partial-<pid>-*`` of a dead pid) are touched.

    Args:
        folder: e.g. the runs folder.
        depth: how many folder levels below ``folder`` to look.
    """
    folder, removed = Path(folder).expanduser(), []
    try:
        children = list(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []
    except OSError:
        return []
    for p in children:
        m = _LOCK.match(p.name)
        if m and p.is_file() and not p.is_symlink() and remove_stale_lock(p):
            removed.append(p)
        elif m:
            removed += clean_stale_partials(folder / m.group(1))
    for p in children:
        if ".partial-" in p.name and p.is_dir() and not p.is_symlink():
            removed += clean_stale_partials(folder / p.name.split(".partial-")[0][1:])
    if depth > 0:
        for p in children:
            if p.is_dir() and not p.is_symlink() and p.exists():
                removed += clean_stale(p, depth=depth - 1)
    return removed
