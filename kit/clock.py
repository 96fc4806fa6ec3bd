"""The kit's one way to write a time: ISO-8601 UTC stamps for records and logs, sortable stamps for folders.

Every record, log and folder name the kit writes takes its time from here, so all of them are
UTC and read the same way (``2026-01-31T12:00:00Z``), whatever the machine's time zone.
"""

from __future__ import annotations

import datetime

__all__ = ["STAMP_FORMAT", "folder_stamp", "utc_now", "utc_today"]

#: How a record or log states a time: ISO-8601, UTC, to the second.
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now(*, precise: bool = False) -> str:
    """The current UTC time as ``2026-01-31T12:00:00Z`` (to the microsecond when ``precise``).

    Args:
        precise: add microseconds (``...:00.123456Z``), for rows that must sort by time as text.
    """
    fmt = STAMP_FORMAT.replace("%SZ", "%S.%fZ") if precise else STAMP_FORMAT
    return datetime.datetime.now(datetime.UTC).strftime(fmt)


def folder_stamp() -> str:
    """The current UTC time for a folder name (``20260131-120000``): sorts by time, no separators a shell minds."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")


def utc_today() -> datetime.date:
    """Today's date in UTC (the day the kit's UTC stamps fall on)."""
    return datetime.datetime.now(datetime.UTC).date()
