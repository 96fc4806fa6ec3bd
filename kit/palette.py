"""The kit's colours, named once: status colours for HTML tables and figures, series colours for plots.

Reports, the teaching panel, the plots and the debugging figures take their colours from here,
so a failing row in a table and a failing point in a figure are the same red.
"""

from __future__ import annotations

__all__ = ["AXIS", "BLUE", "FAIL", "FAIL_BG", "FAINT", "GREY", "LIGHT_GREY", "MUTED", "PASS", "PASS_BG", "PLAIN_BG", "RED",
           "RULE", "RULE_STRONG", "STATUS_STYLES", "WARN"]

PASS = "#0f5c2e"  # pass: text, lines and bars
PASS_BG = "#dcf5e3"  # pass: cell background, the within-tolerance band
FAIL = "#8f1d14"  # fail / error: text and "nothing to show" notes
FAIL_BG = "#fde3e0"
WARN = "#7a4b00"  # amber: insufficient samples, inconclusive, notes that need a look
BLUE = "#4c72b0"  # a measured series (bars, lines)
RED = "#c44e52"  # a series that marks trouble (regressions reaching production, outlier channels)
GREY = "#444444"  # the baseline in a figure
LIGHT_GREY = "#c8c8c8"  # a series that is not counted (uncovered volume, the original values)
MUTED = "#555555"  # secondary text: captions, logs
FAINT = "#666666"  # placeholder text ("no rows", "no run yet")
AXIS = "#888888"  # a reference line in a figure (zero change)
RULE = "#e4e4e4"  # table row lines
RULE_STRONG = "#bbbbbb"  # the table header's line
PLAIN_BG = "#f4f4f4"  # background of a badge without a status, and of log excerpts

# (text colour, background) per status; anything else is shown plain.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "pass": (PASS, PASS_BG),
    "fail": (FAIL, FAIL_BG),
    "insufficient-samples": (WARN, "#fff1cc"),
    "within-noise": ("#5b4a00", "#fbf6d9"),
    "inconclusive": (WARN, "#fff1cc"),
    "running": ("#1f4e8c", "#e3edfb"),
    "cancelled": ("#4a4a4a", "#ececec"),
    "error": (FAIL, FAIL_BG),
}
