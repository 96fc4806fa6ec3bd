"""File hashing: one file, a folder's weights, a folder's manifest (SHA-256, read in 1 MiB chunks).

Importable from :mod:`kit.io` as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["file_manifest", "sha256_dir", "sha256_file"]


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


def file_manifest(path: str | os.PathLike[str], *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """``{relative file name: sha256}`` of every file below ``path`` (hidden names and ``exclude`` left out).

    Args:
        path: the folder (a model, baseline or artifact).
        exclude: file names not covered (the kit's own log, which records the manifest).
    """
    root = Path(path)
    out = {}
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.as_posix() not in exclude:
            out[rel.as_posix()] = sha256_file(f)
    return out
