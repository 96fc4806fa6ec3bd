"""kit.clock: one UTC format for records, a sortable UTC stamp for folders, whatever the local time zone."""

import datetime
import re
import time

import pytest

from kit.clock import STAMP_FORMAT, folder_stamp, utc_now, utc_today


@pytest.fixture
def far_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local stamp would be a different day most hours
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def test_stamps_are_utc_in_one_format(far_time_zone):
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    now, precise, stamp = utc_now(), utc_now(precise=True), folder_stamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", precise)
    assert re.fullmatch(r"\d{8}-\d{6}", stamp)
    parsed = datetime.datetime.strptime(now, STAMP_FORMAT).replace(tzinfo=datetime.UTC)
    assert datetime.timedelta(0) <= parsed - before <= datetime.timedelta(seconds=5), "UTC, not local time"
    assert abs(datetime.datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=datetime.UTC) - parsed) \
        <= datetime.timedelta(seconds=5)
    assert utc_today() == parsed.date()


def test_precise_stamps_sort_as_text_in_time_order():
    stamps = [utc_now(precise=True) for _ in range(50)]
    assert stamps == sorted(stamps)
