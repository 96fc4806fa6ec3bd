"""Small file helpers: atomic writes (temp path, then rename), folder stamps, writer locks; hashing re-exported.

The hashing functions live in :mod:`kit.hashing` and stay importable from here.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.hashing import file_manifest, sha256_dir, sha256_file
from kit.leftovers import clean_stale_partials, remove_stale_lock

__all__ = [
    "atomic_dir", "atomic_write_json", "cache_dir", "check_replaceable", "check_writable", "file_manifest", "read_stamp",
    "runs_dir", "sha256_dir", "sha256_file", "STAMP", "write_stamp", "writer_lock",
]

STAMP = ".kit-folder.json"  # written into every folder atomic_dir creates: what it is and the files the kit wrote
_HELD: dict[str, list[int]] = {}  # resolved target → [lock fd, depth] (the lock is re-entrant within a process)


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON to a temp file beside ``path`` and rename it into place (an OS error becomes a :class:`KitError`).

    Args:
        path: the destination file.
        data: anything ``json.dumps`` accepts.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise KitError(f"cannot write {path} ({exc.strerror or exc}); choose a writable path") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False, default=str)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KitError(f"cannot write {path} ({exc.strerror or exc}); choose a writable path") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def check_writable(path: str | os.PathLike[str], *, what: str, kind: str = "file") -> None:
    """Fail now, before any work, when ``path`` could not be written at the end (nothing is left behind).

    Args:
        path: where the command will write.
        what: the flag, for the message (``--json``, ``--out``).
        kind: ``file`` (a file written beside its siblings), ``folder`` (a folder created beside its
            siblings) or ``into`` (a folder that files are written into).
    """
    path = Path(path).expanduser()
    if kind == "file" and path.is_dir():
        raise KitError(f"{what} {path} is a folder; give a file name such as {path / 'result.json'}")
    if kind != "file" and path.exists() and not path.is_dir():
        raise KitError(f"{what} {path} is a file, not a folder; choose another path")
    probe = path if kind == "into" else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise KitError(f"{what} {path} cannot be created: {probe} is a file, not a folder; choose another path")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".kit-write-test-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise KitError(f"{what} {path} is not writable ({exc.strerror or exc}); choose a writable path") from None


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _contains(outer: Path, inner: Path) -> bool:
    return outer == inner or outer in inner.parents


def read_stamp(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A folder's :data:`STAMP` (``kind``, ``files``), or None when it has none or it is damaged.

    Args:
        path: the folder.
    """
    try:
        stamp = json.loads((Path(path) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def write_stamp(path: str | os.PathLike[str], *, kind: str, files: dict[str, str] | None) -> None:
    """Record in ``path/STAMP`` what the folder is and ``{file: sha256}`` of the files the kit wrote there.

    Args:
        path: the folder.
        kind: what it is (``pilot report``, ``exercises``...): ``--overwrite`` replaces it only with the same kind.
        files: the files the kit wrote; None where a kit log in the folder lists them (baselines, artifacts).
    """
    atomic_write_json(Path(path) / STAMP, {"written_by": "kit", "kind": kind, "pid": os.getpid(), "files": files})


def check_replaceable(path: str | os.PathLike[str], *, marker: str | None = None, kind: str = "folder") -> None:
    """Refuse to replace ``path`` unless the kit wrote it as a ``kind`` and it holds only the files the kit wrote.

    Never the kit cache, the home folder, the working folder, or a folder that holds any of them;
    never a folder of another kind (a baseline or a quantized model is never replaced by a report).

    Args:
        path: the existing folder ``--overwrite`` would replace.
        marker: the kit log that marks a finished kit folder and lists its files (``kit-quantization.json``);
            None: the :data:`STAMP` that :func:`atomic_dir` writes into every folder it creates.
        kind: what the new folder is; the old one must have been stamped as the same kind.
    """
    path = Path(path).expanduser()
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise KitError(f"{path} is not a folder the kit wrote (a file or a link); --overwrite replaces only kit "
                       "artifacts: remove it yourself or choose another --out")
    real = path.resolve()
    for name, keep in (("the kit cache", cache_dir()), ("your home folder", Path.home()), ("the working folder", Path.cwd())):
        if _contains(real, keep.expanduser().resolve()):
            raise KitError(f"refusing to replace {path}: it is or holds {name} ({keep}); choose another --out")
    log = path / (marker or STAMP)
    logs = sorted(p.name for p in path.glob("kit-*.json"))  # a baseline's or an artifact's log names it
    if not log.is_file() and not marker and logs:
        raise KitError(f"{path} is a kit folder with {logs[0]}, not {_a(kind)}; --overwrite replaces only "
                       f"{_a(kind)} the kit wrote: choose another --out")
    if not log.is_file():
        raise KitError(f"{path} is not a kit artifact (no {marker or STAMP}); --overwrite replaces only folders the "
                       "kit wrote: move it away yourself or choose another --out")
    stamp = read_stamp(path)
    found = (stamp or {}).get("kind")
    if (found or not marker) and found != kind:
        what = _a(found) if found else f"a kit folder with {logs[0]}" if logs else \
            "a kit folder that does not record what it is (written by an older kit)"
        raise KitError(f"{path} is {what}, not {_a(kind)}; --overwrite replaces only {_a(kind)} the kit wrote: "
                       "choose another --out")
    try:
        listed = json.loads(log.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None  # a damaged log: replacing the artifact is the fix
    if not marker and not isinstance(listed, dict):
        raise KitError(f"{path} does not list the files the kit wrote ({STAMP}); move it away yourself "
                       "or choose another --out")
    if isinstance(listed, dict):
        current = file_manifest(path, exclude=(log.name,))
        extra = sorted(set(current) - set(listed))
        if extra:
            raise KitError(f"{path} holds files the kit did not write ({', '.join(extra[:3])}); move them out "
                           "or choose another --out")
        changed = sorted(n for n in current if not marker and current[n] != listed[n])
        if changed:
            raise KitError(f"{path} holds files changed since the kit wrote them ({', '.join(changed[:3])}); "
                           "move them out or choose another --out")


def _lock_fd(lock: Path, target: Path) -> int:
    """Open and flock ``lock`` (retrying if another process unlinked it meanwhile); a held lock is a KitError."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise KitError(f"cannot lock {lock} ({exc.strerror}); choose another --out") from None
            raise KitError(f"another kit run (pid {holder}) is writing {target}; wait for it to finish "
                           "or choose another --out") from None
        with contextlib.suppress(FileNotFoundError):
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)  # the holder removed the file between our open and flock: take the new one


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike[str]) -> Iterator[list[Path]]:
    """Hold the lock file ``.<name>.lock`` beside ``path`` (fcntl); a second writer fails at once with a KitError.

    Re-entrant within one process. Yields the stale partial folders it cleaned (see
    :func:`kit.leftovers.clean_stale_partials`). On release the lock file is removed, and so are parent
    folders it had to create if nothing was written at ``path``.

    Args:
        path: the folder or file about to be written.
    """
    path = Path(path).expanduser()
    key = str(path.resolve())
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield []
        finally:
            _HELD[key][1] -= 1
        return
    created = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    lock = path.parent / f".{path.name}.lock"
    stale = [lock] if lock.is_file() and remove_stale_lock(lock) else []  # left by a killed run
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _lock_fd(lock, path)
    except OSError as exc:
        raise KitError(f"cannot write beside {path} ({exc.strerror or exc}); choose a writable --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[key] = [fd, 1]
    try:
        yield stale + clean_stale_partials(path)
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it: a waiting writer re-checks the inode (see _lock_fd)
        os.close(fd)
        if not path.exists():
            for folder in created:  # innermost first; only empty folders this call made
                with contextlib.suppress(OSError):
                    folder.rmdir()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False, marker: str | None = None,
               kind: str = "folder", cleaned: list[Path] | None = None) -> Iterator[Path]:
    """Yield a temp folder beside ``path``; rename it to ``path`` only if the block succeeds.

    Holds :func:`writer_lock` throughout. The temp folder's name carries this process's pid, so a
    later run can clean it up if this one is killed. An existing ``path`` is replaced only with
    ``overwrite`` and only when :func:`check_replaceable` proves it a kit folder; the old one is
    moved aside first and deleted only after the new one is in place.

    Args:
        path: the final folder.
        overwrite: replace an existing kit folder at ``path`` (otherwise refuse).
        marker: the kit log that proves an existing folder is the kit's and lists its files (e.g.
            ``kit-quantization.json``); None: the :data:`STAMP` this function writes into every folder it creates.
        kind: what the folder is, recorded in its stamp (see :func:`check_replaceable`).
        cleaned: a list to extend with the stale locks and partial folders of killed runs it removed.
    """
    path = Path(path).expanduser()
    with writer_lock(path) as stale:
        if cleaned is not None:
            cleaned.extend(stale)
        if path.exists() or path.is_symlink():
            if not overwrite:
                raise KitError(f"{path} already exists; choose another --out or pass --overwrite")
            check_replaceable(path, marker=marker, kind=kind)
        try:
            tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.partial-{os.getpid()}-"))
        except OSError as exc:
            raise KitError(f"cannot write beside {path} ({exc.strerror or exc}); choose a writable --out") from None
        try:
            yield tmp
            write_stamp(tmp, kind=kind, files=None if marker else file_manifest(tmp))
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; artifacts are shared
            if path.exists():
                trash = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.replaced-{os.getpid()}-"))
                os.replace(path, trash / path.name)
                os.replace(tmp, path)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def cache_dir() -> Path:
    """The kit's cache folder: ``$KIT_CACHE`` or ``~/.cache/quant-kit``."""
    root = os.environ.get("KIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "quant-kit")
    return Path(root)


def runs_dir() -> Path:
    """Where notebooks and pilots put artifacts: ``$KIT_RUNS``, else ``runs/`` in the kit's cache folder.

    A per-user place, never the install location, and the same from every notebook folder.
    """
    root = os.environ.get("KIT_RUNS")
    return Path(root).expanduser() if root else cache_dir() / "runs"
