"""HTML tables, verdicts and status badges for notebooks, widgets and reports (self-contained, inline styles).

Every function returns an HTML fragment (a ``str``) with inline styles only, so it renders the
same in a JupyterLab output, an ipywidgets ``HTML`` widget and a standalone report page.
Tables keep each cell on one line and scroll sideways in their own box, so a 1,280 px window
never wraps a row mid-line. Statuses (``pass``, ``fail``, ``within-noise``, ...) are coloured
and, where asked, the failing rows come first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from kit.palette import FAINT, GREY, MUTED, PLAIN_BG, RULE, RULE_STRONG, STATUS_STYLES

__all__ = ["STATUS_ORDER", "page", "render_badge", "render_sentence", "render_table",
           "render_verdict"]

# Worst first: the order rows take when ``failing_first`` is set.
STATUS_ORDER = ("fail", "error", "insufficient-samples", "inconclusive", "within-noise", "cancelled", "running", "pass")

# Explicit white-space and line-height: widget containers (ipywidgets HTML) set nowrap and a 28 px line height.
_FONT = ("font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 13px; line-height: 1.35; "
         "white-space: normal;")
_CELL = f"padding: 3px 7px; border-bottom: 1px solid {RULE}; white-space: nowrap; vertical-align: bottom;"
_HEAD = f"padding: 3px 7px; border-bottom: 2px solid {RULE_STRONG}; text-align: left; vertical-align: bottom; max-width: 7em;"


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render_badge(status: str, *, text: str | None = None) -> str:
    """A coloured pill for a status (``pass``, ``fail``, ``within-noise``, ...).

    Args:
        status: the status key (unknown ones are shown uncoloured).
        text: what the pill says (default: the status itself).
    """
    fg, bg = STATUS_STYLES.get(str(status), ("inherit", "transparent"))
    return (f'<span style="color: {fg}; background: {bg}; border-radius: 9px; padding: 1px 8px; '
            f'font-weight: 600; white-space: nowrap;">{html.escape(text if text is not None else str(status))}</span>')


def render_table(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    status_columns: Sequence[str] = ("status", "gate", "decision"),
    failing_first: str | None = None,
    caption: str | None = None,
) -> str:
    """Rows of dicts as a compact HTML table; numbers right-aligned, statuses as coloured badges.

    Args:
        rows: dicts (missing keys shown as ``–``).
        columns: which keys, in order (default: the first row's keys).
        labels: header text per key (default: the key with ``_`` as spaces).
        status_columns: keys whose values are shown as :func:`render_badge` pills.
        failing_first: a key to order rows by, worst status first (:data:`STATUS_ORDER`); stable otherwise.
        caption: a line above the table.
    """
    if not rows:
        return f'<div style="{_FONT} color: {FAINT};">(no rows)</div>'
    cols = list(columns or rows[0].keys())
    labels = labels or {}
    ordered = list(rows)
    if failing_first:
        rank = {s: i for i, s in enumerate(STATUS_ORDER)}
        ordered.sort(key=lambda r: rank.get(str(r.get(failing_first)), len(STATUS_ORDER)))
    head = "".join(f'<th style="{_HEAD}">'
                   f'{html.escape(labels.get(c, c.replace("_", " ")))}</th>' for c in cols)
    body = []
    for r in ordered:
        cells = []
        for c in cols:
            v = r.get(c)
            if c in status_columns and v not in (None, "", "-"):
                cells.append(f'<td style="{_CELL}">{render_badge(str(v))}</td>')
            else:
                align = "right" if isinstance(v, (int, float)) and not isinstance(v, bool) else "left"
                cells.append(f'<td style="{_CELL} text-align: {align};">{html.escape(_text(v))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = (f'<caption style="caption-side: top; text-align: left; font-weight: 600; padding: 4px 0;">'
           f'{html.escape(caption)}</caption>') if caption else ""
    return (f'<div style="overflow-x: auto; max-width: 100%;"><table style="{_FONT} border-collapse: collapse; '
            f'margin: 4px 0 10px 0;">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def render_sentence(text: str, *, status: str | None = None) -> str:
    """One highlighted line (a decision, a warning), coloured by ``status`` when given.

    Args:
        text: the sentence.
        status: a :data:`STATUS_STYLES` key for the colour and left border.
    """
    fg, bg = STATUS_STYLES.get(str(status), ("inherit", PLAIN_BG))
    return (f'<div style="{_FONT} font-size: 14px; color: {fg}; background: {bg}; border-left: 4px solid {fg}; '
            f'padding: 6px 10px; margin: 6px 0;">{html.escape(text)}</div>')


def render_verdict(verdict: Mapping[str, Any] | Any) -> str:
    """A gate verdict: a coloured heading, its metrics (failing first), and the notes.

    Args:
        verdict: a :class:`kit.govern.gate.Verdict` or its ``to_dict()``.
    """
    from kit.engines import engine_of
    from kit.govern.gate import Verdict, _fmt, _fmt_delta, _fmt_limit  # one place formats numbers
    from kit.govern.policy import METRICS

    v = verdict if isinstance(verdict, Verdict) else Verdict.from_dict(dict(verdict))
    c = v.candidate
    what = f"{c.get('method', 'none')}" + (f" {c['bits']}-bit" if c.get("bits") else "")
    head = (f'<div style="{_FONT} margin-top: 8px;">{render_badge(v.decision, text=v.decision.upper())} '
            f'<b>{html.escape(what)}</b> for <b>{html.escape(v.use_case)}</b> '
            f'<span style="color: {MUTED};">({html.escape(str(c.get("ref", "")))} on {html.escape(engine_of(c).label())} '
            f'vs baseline {html.escape(str(v.baseline.get("ref", "")))} on {html.escape(engine_of(v.baseline).label())}'
            f'{", cross-engine, allowed on request" if v.cross_engine else ""})</span></div>')
    rows = [{"metric": m.metric, "set": m.eval_set, "value": _fmt(m.value),
             "baseline": f"ideal {m.baseline:g}" if METRICS[m.metric].ideal is not None else _fmt(m.baseline),
             "change": _fmt_delta(m.delta, m.limit_kind),
             "bounds": ("[" + ", ".join(_fmt_delta(x, m.limit_kind) for x in m.interval) + "]"
                        if getattr(m, "interval", None) else None),
             "allowed": _fmt_limit(m), "n": f"{m.samples} {m.sample_unit}", "status": m.status} for m in v.metrics]
    notes = "".join(f"<li>{html.escape(m.metric)}: {html.escape(m.note)}</li>" for m in v.metrics if m.note)
    notes_html = f'<ul style="{_FONT} color: {GREY}; margin: 0 0 8px 0;">{notes}</ul>' if notes else ""
    return head + render_table(rows, failing_first="status") + notes_html


def page(body: str, *, title: str) -> str:
    """Wrap fragments into a standalone HTML document (for report files).

    Args:
        body: HTML fragments from this module.
        title: the page title and heading.
    """
    t = html.escape(title)
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{t}</title></head>'
            f'<body style="{_FONT} max-width: 1200px; margin: 16px auto; padding: 0 12px;"><h1 style="font-size: 20px;">'
            f'{t}</h1>\n{body}\n</body></html>\n')
