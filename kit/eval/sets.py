"""Evaluation and calibration sets: documented JSONL formats, validated, hashed.

Kinds, inferred from the keys of the records:
- ``text`` — ``{"text": ...}`` → token-level perplexity (a plain ``.txt`` file is one record);
- ``multiple_choice`` — ``{"prompt", "choices", "answer"}`` → log-likelihood accuracy;
- ``generation`` — ``{"prompt", "reference"}`` (optional ``aliases``) → exact/contains match.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from kit._bundled import bundled_path
from kit.errors import KitError
from kit.io import sha256_file

__all__ = ["KINDS", "EvalSet", "bundled_sets", "data_dir", "infer_kind", "load_set"]

KINDS = ("text", "multiple_choice", "generation")


def data_dir() -> Path:
    """The data folder: ``$KIT_DATA``, else the sets bundled with the package (the repository's ``data/``)."""
    override = os.environ.get("KIT_DATA")
    return Path(override).expanduser() if override else bundled_path("data")


@dataclasses.dataclass(frozen=True)
class EvalSet:
    """A validated set of records of one kind, with the hash of the file it came from."""

    name: str
    kind: str
    path: Path
    sha256: str
    items: tuple[dict[str, Any], ...]

    def info(self) -> dict[str, Any]:
        """A JSON-ready description for records and config logs."""
        return {"name": self.name, "kind": self.kind, "path": str(self.path),
                "sha256": self.sha256, "records": len(self.items)}

    def texts(self) -> list[str]:
        """The ``text`` field of every record (text kind only)."""
        if self.kind != "text":
            raise KitError(f"set '{self.name}' is {self.kind}, not text; calibration and perplexity need a text set")
        return [item["text"] for item in self.items]


def bundled_sets(folder: str = "eval") -> dict[str, Path]:
    """Bundled sets by name.

    Args:
        folder: ``eval`` or ``calibration``.
    """
    return {p.stem: p for p in sorted((data_dir() / folder).glob("*.jsonl"))}


def infer_kind(record: dict[str, Any]) -> str:
    """The kind a record's keys declare.

    Args:
        record: one parsed JSONL record.
    """
    if "choices" in record or "answer" in record:
        return "multiple_choice"
    if "reference" in record:
        return "generation"
    if "text" in record:
        return "text"
    raise KitError(f"record with keys {sorted(record)} matches no kind; "
                   "use 'text', 'prompt'+'choices'+'answer', or 'prompt'+'reference'")


def _check(record: dict[str, Any], kind: str, where: str) -> None:
    if kind == "text":
        ok = isinstance(record.get("text"), str) and record["text"].strip()
        need = "a non-empty string 'text'"
    elif kind == "multiple_choice":
        choices, answer = record.get("choices"), record.get("answer")
        ok = (isinstance(record.get("prompt"), str) and isinstance(choices, list) and len(choices) >= 2
              and all(isinstance(c, str) and c for c in choices)
              and isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(choices))
        need = "'prompt' (string), 'choices' (≥2 strings) and 'answer' (index into choices)"
    else:
        aliases = record.get("aliases", [])
        ok = (isinstance(record.get("prompt"), str) and isinstance(record.get("reference"), str)
              and record["reference"].strip() and isinstance(aliases, list)
              and all(isinstance(a, str) and a.strip() for a in aliases))
        need = "'prompt' and a non-empty 'reference' string ('aliases', if given, a list of non-empty strings)"
    if not ok:
        raise KitError(f"{where}: a {kind} record needs {need}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise KitError(f"{path}:{line}: not UTF-8 (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8") from None
    except OSError as exc:
        raise KitError(f"cannot read {path} ({exc.strerror or exc}); check the path") from None


def _read_jsonl(path: Path) -> tuple[str, list[dict[str, Any]]]:
    kind, items = None, []
    for lineno, line in enumerate(_read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, too-long integers, deep nesting
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            raise KitError(f"{where}: not valid JSON ({why}); each line must be one JSON object") from None
        if not isinstance(record, dict):
            raise KitError(f"{where}: expected a JSON object per line, got {type(record).__name__}")
        this = infer_kind(record)
        kind = kind or this
        if this != kind:
            raise KitError(f"{where}: a {this} record in a {kind} set; one file holds one kind")
        _check(record, kind, where)
        items.append(record)
    return kind or "text", items


def load_set(ref: str | os.PathLike[str], *, folder: str = "eval", limit: int | None = None) -> EvalSet:
    """Load a bundled set by name, a ``.jsonl`` file, or a ``.txt`` file (one text record).

    Args:
        ref: bundled name (see :func:`bundled_sets`) or a file path.
        folder: where bundled names are looked up: ``eval`` or ``calibration``.
        limit: keep only the first ``limit`` records.
    """
    bundled = bundled_sets(folder)
    path = bundled.get(str(ref)) or Path(ref).expanduser()
    if not path.is_file():
        raise KitError(f"{folder} set '{ref}' not found; give a file path or one of: {', '.join(bundled) or '(none bundled)'}")
    if path.suffix == ".txt":
        text = _read_text(path)
        kind, items = "text", [{"id": path.stem, "text": text}] if text.strip() else []
    elif path.suffix == ".jsonl":
        kind, items = _read_jsonl(path)
    else:
        raise KitError(f"{path}: unsupported file type '{path.suffix}'; use .jsonl (see data/README.md) or .txt")
    if not items:
        raise KitError(f"{path} has no records; add at least one (formats in data/README.md)")
    if limit is not None:
        if limit < 1:
            raise KitError(f"limit must be ≥1, got {limit}")
        items = items[:limit]
    return EvalSet(name=path.stem, kind=kind, path=path, sha256=sha256_file(path), items=tuple(items))
