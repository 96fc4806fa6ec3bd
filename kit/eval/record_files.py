"""Harness records read back from JSON files (``kit eval --json``), checked before the gate uses them.

:func:`read_records` is the one reader of record files: UTF-8 JSON, one record or a list, each
a ``kit.eval/1`` record (:meth:`kit.eval.record.EvalRecord.from_dict`) whose fields the gate
reads have the types the harness writes. Anything else is a one-line :class:`KitError` naming
the file (and the item of a list).
"""

from __future__ import annotations

import json
import os
from typing import Any

from kit.errors import KitError

__all__ = ["read_records"]


def read_records(paths: list[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The harness records in JSON files (one record or a list), each checked before use.

    Args:
        paths: files written by ``kit eval --json``.
    """
    from kit.eval.record import EvalRecord

    records: list[dict[str, Any]] = []
    hint = "pass a file written by `kit eval --json`"
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.loads(f.read())
        except OSError as exc:
            raise KitError(f"cannot read {path} ({exc.strerror or exc}); {hint}") from None
        except UnicodeDecodeError:
            raise KitError(f"{path} is not UTF-8 text; {hint}") from None
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, too-long integers, absurd nesting
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            raise KitError(f"{path} is not JSON ({why}); {hint}") from None
        items = data if isinstance(data, list) else [data]
        if not items:
            raise KitError(f"{path} holds an empty list; {hint}")
        for i, item in enumerate(items):
            try:
                _check_fields(EvalRecord.from_dict(item))
            except KitError as exc:
                where = f"{path} item {i + 1}" if isinstance(data, list) else str(path)
                raise KitError(f"{where}: {exc}; {hint}") from None
        records += items
    return records


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_fields(record: Any) -> None:
    """The fields the gate reads have the types the harness writes (a KitError naming the first that does not)."""
    from kit.eval.record import METRICS

    for section, keys in (("model", ("ref",)), ("eval_set", ("name", "kind", "sha256"))):
        bad = [k for k in keys if not isinstance(getattr(record, section).get(k), str)]
        if bad:
            raise KitError(f"its {section} lacks {', '.join(bad)}")
    if not isinstance(record.model.get("sha256"), (str, type(None))):
        raise KitError("its model.sha256 is not a string")
    for name in ("baseline", "agreement", "environment"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, dict):
            raise KitError(f"its {name} is not an object")
    if record.baseline is not None and not isinstance(record.baseline.get("sha256"), (str, type(None))):
        raise KitError("its baseline.sha256 is not a string")
    for spec in METRICS.values():
        section = getattr(record, spec.section) or {}
        for key in (spec.key, spec.count):
            if section.get(key) is not None and not _number(section[key]):
                raise KitError(f"its {spec.section}.{key} is not a number")
    if not isinstance(record.model.get("baseline"), (dict, type(None))):
        raise KitError("its model.baseline is not an object")
    correct, ids = record.accuracy.get("correct"), record.accuracy.get("ids")
    if record.kind != "text" and (correct is None or ids is None):
        raise KitError(f"its {record.kind} accuracy lacks the per-item 'correct' and 'ids' lists")
    if correct is not None and not (isinstance(correct, list) and all(_number(c) and c in (0, 1) for c in correct)):
        raise KitError("its accuracy.correct is not a list of 0/1")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(x, (str, int)) for x in ids)):
        raise KitError("its accuracy.ids is not a list of item ids")
    for section in ("accuracy", "agreement"):
        columns = (getattr(record, section) or {}).get("per_window")
        if columns is None:
            continue
        if not (isinstance(columns, dict) and all(isinstance(v, list) and all(_number(x) for x in v)
                                                  for v in columns.values())
                and len({len(v) for v in columns.values()}) <= 1):
            raise KitError(f"its {section}.per_window is not a set of equal-length number lists")
