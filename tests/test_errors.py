"""kit.errors: the helpers that keep a user-facing message on one line and useful."""

from __future__ import annotations

import datetime

from kit.errors import names, nearest


def test_names_quotes_what_would_break_the_line_or_hide():
    assert names(["b", "a"]) == "a, b"
    assert names([3, datetime.date(2026, 1, 2)]) == "2026-01-02, 3"  # YAML keys need not be strings
    shown = names(["ok", "\n", "", " pad", "tab\there"])
    assert "\n" not in shown and "\t" not in shown
    assert shown.split(", ") == sorted(["ok", "'\\n'", "''", "' pad'", "'tab\\there'"])


def test_nearest_offers_a_real_name_never_the_typo():
    assert nearest("chat-asistant", ["chat-assistant", "batch-summaries"]) == " (did you mean 'chat-assistant'?)"
    assert nearest("zzz", ["chat-assistant"]) == ""
