"""What the pilot panel shows: one decision sentence, the result as HTML tables, and the run's status line."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from kit.palette import FAINT, MUTED, PLAIN_BG, WARN
from kit.report.html import render_badge, render_sentence, render_table, render_verdict

__all__ = ["TABLE_LABELS", "decision_sentence", "log_html", "result_html", "status_html"]

# Header text for the pilot's decision-table keys (others: the key with "_" as spaces).
TABLE_LABELS = {"stored_MiB": "stored MiB", "in_memory_MiB": "in memory MiB", "top1": "top-1 agree",
                "kl": "KL", "decode_tok_s": "decode tok/s", "entry": "registry entry"}


def _failing(candidate: dict[str, Any], status: str) -> list[str]:
    return [m["metric"] for m in candidate["verdict"]["metrics"] if m["status"] == status]


def decision_sentence(result: dict[str, Any]) -> tuple[str, str]:
    """One sentence saying what to do with this pilot's outcome, and its status colour.

    Args:
        result: what :func:`kit.govern.pilot.run_pilot` returned.
    """
    d = result["decision"]
    if d.get("recommended"):
        entry = f" (registry entry {d['entry_id']})" if d.get("entry_id") else ""
        scope = f" for {result['use_case']}" if result.get("use_case") else ""
        return f"Decision: use {d['recommended']}{scope}{entry} — {d['why']}.", "pass"
    candidates = result.get("candidates") or []
    failed = [f"{c['method']} ({', '.join(_failing(c, 'fail'))})" for c in candidates if _failing(c, "fail")]
    small = sorted({m for c in candidates for m in _failing(c, "insufficient-samples")})
    unsure = sorted({m for c in candidates for m in _failing(c, "inconclusive")})
    if failed:
        extra = "; the run was also below the policy's sample minimums" if small else ""
        return f"Decision: keep the baseline — {', '.join(failed)} failed the gate{extra}.", "fail"
    if small:
        return ("Decision: not validated — this run is too small for the policy's minimums "
                f"({', '.join(small)}), so keep the baseline until a full-size run passes.", "insufficient-samples")
    if unsure:
        return (f"Decision: inconclusive — the data cannot yet decide {', '.join(unsure)} (the verdict below says "
                "how much more would), so keep the baseline for now.", "inconclusive")
    return "Decision: keep the baseline — no candidate passed the gate.", "fail"

def result_html(result: dict[str, Any], *, note: str = "") -> str:
    """The decision sentence, the decision table and each candidate's verdict (failing metrics first).

    Args:
        result: what :func:`kit.govern.pilot.run_pilot` returned.
        note: a line under the sentence (e.g. "quick look: not a validation").
    """
    sentence, status = decision_sentence(result)
    parts = [render_sentence(sentence, status=status)]
    if note:
        parts.append(f'<div style="color: {WARN}; font-size: 13px; margin: 0 0 6px 0;">{html.escape(note)}</div>')
    parts.append(render_table(result["table"], labels=TABLE_LABELS, caption="Baseline and candidates"))
    parts += [render_verdict(c["verdict"]) for c in result.get("candidates") or []]
    return '<div style="white-space: normal; line-height: 1.35; max-width: 100%;">' + "\n".join(parts) + "</div>"


def _clock(seconds: float) -> str:
    m, s = divmod(int(max(seconds, 0)), 60)
    return f"{m}:{s:02d}"


def status_html(status: dict[str, Any] | None, *, bar: tuple[str, int, int] | None = None,
                now: float | None = None) -> str:
    """The status line (state, stage, elapsed time, the latest bar tick, time since the last stage line), then the stage lines.

    Args:
        status: a run's status (:func:`kit.teach.panel_runs.read_status`), or None for "no run yet".
        bar: the latest tick of a kit progress bar, ``(what, done, total)``.
        now: the clock (tests pass one).
    """
    if not status:
        return f'<span style="color: {FAINT};">No pilot run yet: pick a size and press Run.</span>'
    now = time.time() if now is None else now
    state = status["state"]
    end = status.get("finished") or now
    elapsed = _clock(end - status["started"])
    if state == "running":
        quiet = _clock(now - status["updated"])
        detail = (f' · {html.escape(bar[0])} <progress value="{bar[1]}" max="{bar[2]}" style="width: 90px; '
                  f'vertical-align: middle;"></progress> {bar[1]}/{bar[2]}') if bar else ""
        text = (f"{render_badge('running', text='running')} stage <b>{html.escape(status['stage'])}</b>: "
                f"{html.escape(status['message'])}{detail} · {elapsed} elapsed · last stage line {quiet} ago")
    elif state == "done":
        text = f"{render_badge('pass', text='finished')} in {elapsed}"
    elif state == "failed":
        text = f"{render_badge('error', text='failed')} after {elapsed}: {html.escape(status.get('error') or '')}"
    elif state == "interrupted":
        text = (f"{render_badge('cancelled', text='interrupted')} the kernel that ran it stopped at stage "
                f"{html.escape(status['stage'])}; run again")
    else:
        text = f"{render_badge('cancelled', text=state)} after {elapsed}: {html.escape(status.get('message') or '')}"
    lines = "\n".join(html.escape(line) for line in status.get("lines") or [])
    log = (f'<pre style="font-size: 11px; line-height: 1.35; color: {MUTED}; white-space: pre-wrap; margin: 2px 0;">'
           f'{lines}</pre>') if lines else ""
    return f'<div style="font-size: 13px; line-height: 1.5; white-space: normal; padding: 2px 0;">{text}</div>{log}'


def log_html(path: Path, *, lines: int = 40) -> str:
    """The run's log file: its path and its last lines (library warnings and messages), for "details".

    Args:
        path: the log file.
        lines: how many lines from the end.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        text = ["(no log yet)"]
    return (f'<div style="font-size: 12px; color: {MUTED};">log: {html.escape(str(path))}</div>'
            f'<pre style="font-size: 11px; max-height: 240px; overflow: auto; white-space: pre-wrap; '
            f'background: {PLAIN_BG}; padding: 6px;">{html.escape(chr(10).join(text))}</pre>')
