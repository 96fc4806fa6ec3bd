"""Small file helpers: hashing and atomic writes (temp path, then rename)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_dir", "atomic_write_json", "cache_dir", "runs_dir", "sha256_dir", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of one file.

    Args:
        path: the file to hash.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_dir(path: str | os.PathLike[str], *, pattern: str = "*.safetensors") -> str:
    """One SHA-256 over the files matching ``pattern`` (names and contents, sorted).

    Args:
        path: the folder.
        pattern: which files count (weights by default).
    """
    files = sorted(Path(path).glob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} files in {path}")
    if len(files) == 1:
        return sha256_file(files[0])
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + sha256_file(f).encode() + b"\n")
    return h.hexdigest()


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON to a temp file beside ``path`` and rename it into place.

    Args:
        path: the destination file.
        data: anything ``json.dumps`` accepts.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False, default=str)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temp folder beside ``path``; rename it to ``path`` only if the block succeeds.

    Args:
        path: the final folder.
        overwrite: replace an existing folder at ``path`` (otherwise refuse).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another --out or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.partial-"))
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; artifacts are shared
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def cache_dir() -> Path:
    """The kit's cache folder: ``$KIT_CACHE`` or ``~/.cache/quant-kit``."""
    root = os.environ.get("KIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "quant-kit")
    return Path(root)


def runs_dir() -> Path:
    """Where notebooks and pilots put artifacts: ``$KIT_RUNS`` or the repository's ``runs/``."""
    root = os.environ.get("KIT_RUNS")
    return Path(root).expanduser() if root else Path(__file__).resolve().parent.parent / "runs"
