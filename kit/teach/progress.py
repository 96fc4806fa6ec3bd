"""A learner's progress: a small local JSON log of completed notebooks, exercises and right answers.

The checks of understanding and each notebook's summary cell write it; ``kit progress`` reads it.
It lives at ``$KIT_PROGRESS_LOG`` or ``~/.cache/quant-kit/progress.json`` (written atomically).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError
from kit.io import atomic_write_json, cache_dir

__all__ = ["SCHEMA", "curriculum", "load", "log_path", "mark_answer", "mark_complete", "mark_prediction", "summary"]

SCHEMA = "kit.progress/1"


def log_path() -> Path:
    """The progress log: ``$KIT_PROGRESS_LOG``, else ``progress.json`` in the kit's cache folder."""
    override = os.environ.get("KIT_PROGRESS_LOG")
    return Path(override).expanduser() if override else cache_dir() / "progress.json"


def _empty() -> dict[str, Any]:
    return {"schema": SCHEMA, "completed": {}, "answers": {}, "predictions": {}}


def load(*, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the log (an empty one when the file does not exist yet).

    Args:
        path: the log (default :func:`log_path`).
    """
    path = Path(path) if path else log_path()
    if not path.exists():
        return _empty()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KitError(f"progress log {path} is unreadable ({exc}); move it aside and answer again") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise KitError(f"{path} is not a {SCHEMA} progress log; point KIT_PROGRESS_LOG elsewhere or move it aside")
    return {**_empty(), **data}


def mark_answer(*, qid: str, correct: bool, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Record an attempt at a question: attempts are counted; once right, it stays right.

    Args:
        qid: the question id.
        correct: whether this attempt was right.
        path: the log (default :func:`log_path`).
    """
    data = load(path=path)
    entry = data["answers"].get(qid, {"attempts": 0, "correct": False})
    entry = {"attempts": entry["attempts"] + 1, "correct": entry["correct"] or correct,
             "at": entry.get("at") if entry["correct"] else utc_now()}
    data["answers"][qid] = entry
    atomic_write_json(Path(path) if path else log_path(), data)
    return entry


def mark_prediction(*, qid: str, answer: str, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Record a prediction committed before the measurement (the latest one counts until it is scored).

    Args:
        qid: the predict-then-run question's id.
        answer: the predicted letter.
        path: the log (default :func:`log_path`).
    """
    data = load(path=path)
    data["predictions"][qid] = entry = {"answer": answer, "at": utc_now()}
    atomic_write_json(Path(path) if path else log_path(), data)
    return entry


def mark_complete(*, item: str, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Record that a notebook or exercise ran to its summary cell.

    Args:
        item: the notebook's name without ``.ipynb`` (``01_baseline``, ``ex03_calibration``).
        path: the log (default :func:`log_path`).
    """
    data = load(path=path)
    entry = {"at": utc_now(), "runs": data["completed"].get(item, {}).get("runs", 0) + 1}
    data["completed"][item] = entry
    atomic_write_json(Path(path) if path else log_path(), data)
    return entry


def curriculum(*, root: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """``(kind, name)`` for every notebook and exercise in the repository, in order.

    Args:
        root: a folder holding ``notebooks/`` and ``solutions/`` (default: the ones shipped with the kit).
    """
    from kit._bundled import bundled_path

    def folder(name: str) -> Path:
        return Path(root) / name if root else bundled_path(name)

    return [("notebook", p.stem) for p in sorted(folder("notebooks").glob("*.ipynb"))] + [
        ("exercise", p.stem) for p in sorted(folder("solutions").glob("*.ipynb"))]


def summary(*, log: dict[str, Any], items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per notebook and exercise: done or not, when, and the questions answered right.

    Args:
        log: :func:`load`'s result.
        items: :func:`curriculum`'s result (items only in the log are appended).
    """
    from kit.teach.questions import QUESTIONS

    known = {name for _, name in items}
    items = items + [("other", name) for name in sorted(log["completed"]) if name not in known]
    rows = []
    for kind, name in items:
        done = log["completed"].get(name)
        qs = [q for q in QUESTIONS.values() if q.notebook == name]
        right = sum(1 for q in qs if log["answers"].get(q.id, {}).get("correct"))
        rows.append({"kind": kind, "name": name, "completed": done["at"][:16].replace("T", " ") if done else "-",
                     "questions": f"{right}/{len(qs)}" if qs else "-"})
    return rows
