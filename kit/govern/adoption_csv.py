"""The one reader of inventory and incident CSV files: every value checked, every error as ``file:line: ...``.

Both files are UTF-8 (a BOM is allowed); ``#`` lines are comments and a comment saying
"example data" marks a fictional file. A row is refused, with its line number, for a missing
column value, a number that is not finite or not sane, a date that is not a real ISO-8601
date, an unknown criticality or stage, or a key already listed on an earlier line.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.govern.costs import CRITICALITY

__all__ = ["INCIDENT_COLUMNS", "INCIDENT_STAGES", "INVENTORY_COLUMNS", "MAX_NUMBER", "parse_time", "read_csv",
           "read_incidents", "read_inventory"]

INCIDENT_STAGES = ("gate", "production")
INVENTORY_COLUMNS = ("model", "owner", "requests_per_day", "criticality", "serving_cost_per_day", "use_case")
INCIDENT_COLUMNS = ("occurred_at", "model", "stage", "note")  # optional: entry, use_case
MAX_NUMBER = 1e12  # requests or USD per day above this are a typo, not a served model
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?")


def parse_time(value: str, *, where: str) -> str:
    """``value`` as the registry stores times (ISO-8601 UTC), refused unless it is a real date and time.

    Args:
        value: ``2026-11-29`` or ``2026-11-29T13:05:00Z``.
        where: the place for the message (``inventory.csv:4``, ``--at``).
    """
    text = value.strip()
    try:
        if not _TIME.fullmatch(text):
            raise ValueError
        datetime.datetime.fromisoformat(text.replace("Z", "").replace(" ", "T"))
    except ValueError:
        raise KitError(f"{where}: time '{value}' is not a real ISO-8601 UTC date such as 2026-11-29 or "
                       "2026-11-29T13:05:00Z") from None
    text = text.replace(" ", "T")
    return text if "T" in text else text + "T00:00:00Z"


def read_csv(path: str | Path, *, required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], bool]:
    """``[(line number, row)]`` of a UTF-8 CSV file (``#`` lines are comments) and whether it is marked example data.

    Args:
        path: the file.
        required: column names it must have.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise KitError(f"cannot read {path} ({exc.strerror}); pass a CSV file such as data/examples/inventory.csv") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise KitError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    lines = text.splitlines()
    example = any(line.startswith("#") and "example data" in line.lower() for line in lines)
    reader = csv.reader(io.StringIO("\n".join("" if line.startswith("#") else line for line in lines)))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                missing = [c for c in required if c not in header]
                if missing:
                    raise KitError(f"{path}:{reader.line_num}: the header lacks column(s) {', '.join(missing)}; "
                                   f"it needs {', '.join(required)}")
                continue
            if len(fields) > len(header):
                raise KitError(f"{path}:{reader.line_num}: {len(fields)} values but the header has {len(header)} "
                               "columns; quote values that contain commas")
            rows.append((reader.line_num, {k: v.strip() for k, v in zip(header, fields) if k}))
    except csv.Error as exc:
        raise KitError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    if header is None or not rows:
        raise KitError(f"{path} needs a header with columns {', '.join(required)} and at least one row")
    return rows, example


def _number(value: str, *, where: str, column: str, whole: bool) -> Any:
    """A finite number in [0, MAX_NUMBER] (``1,000`` and ``1_000`` allowed), or None when empty."""
    if not value:
        return None
    kind = "a whole number" if whole else "a number"
    try:
        number = float(value.replace("_", "").replace(",", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not 0 <= number <= MAX_NUMBER or (whole and not number.is_integer()):
        raise KitError(f"{where}: {column} '{value}' is not {kind} between 0 and {MAX_NUMBER:.0e}")
    return int(number) if whole else number


def _no_repeat(seen: dict[Any, int], key: Any, *, where: str, what: str, line: int) -> None:
    if key in seen:
        raise KitError(f"{where}: {what} is listed twice (first on line {seen[key]}); keep one row")
    seen[key] = line


def read_inventory(path: str | Path) -> tuple[list[dict[str, Any]], bool]:
    """The inventory's rows with typed values (columns: :data:`INVENTORY_COLUMNS`) and the example-data mark.

    Args:
        path: the CSV file; ``use_case`` and ``serving_cost_per_day`` may be empty.
    """
    rows, example = read_csv(path, required=INVENTORY_COLUMNS[:4])
    out, seen = [], {}
    for line, row in rows:
        where = f"{path}:{line}"
        if not row.get("model"):
            raise KitError(f"{where}: the row has no model; each row names a served model")
        _no_repeat(seen, row["model"], where=where, what=f"model {row['model']}", line=line)
        volume = _number(row.get("requests_per_day", ""), where=where, column="requests_per_day", whole=True)
        if volume is None:
            raise KitError(f"{where}: requests_per_day is empty; give the model's requests per day")
        if row.get("criticality") not in CRITICALITY:
            raise KitError(f"{where}: criticality '{row.get('criticality', '')}' is not one of {', '.join(CRITICALITY)}")
        out.append({"model": row["model"], "owner": row.get("owner") or "unknown", "requests_per_day": volume,
                    "criticality": row["criticality"], "use_case": row.get("use_case") or None,
                    "serving_cost_per_day": _number(row.get("serving_cost_per_day", ""), where=where,
                                                    column="serving_cost_per_day", whole=False)})
    return out, example


def read_incidents(path: str | Path) -> tuple[list[dict[str, Any]], bool]:
    """The incident log's rows (columns: :data:`INCIDENT_COLUMNS`, optional ``entry``) checked, and the example mark.

    Args:
        path: the CSV file.
    """
    rows, example = read_csv(path, required=INCIDENT_COLUMNS)
    out, seen = [], {}
    for line, row in rows:
        where = f"{path}:{line}"
        if row["stage"] not in INCIDENT_STAGES:
            raise KitError(f"{where}: stage '{row['stage']}' is not one of {', '.join(INCIDENT_STAGES)}")
        if not row["model"] or not row["note"]:
            raise KitError(f"{where}: each incident needs a model and a note saying what regressed")
        when = parse_time(row["occurred_at"], where=where)
        _no_repeat(seen, (when, row["model"], row["stage"], row["note"]), where=where, what="this incident", line=line)
        out.append({"occurred_at": when, "model": row["model"], "stage": row["stage"], "note": row["note"],
                    "entry": row.get("entry") or None})
    return out, example
