"""The rubric for a decision paragraph written for leadership from a pilot report's ``summary.json``.

Three points, each checked against the summary itself: every number quoted is one the summary
holds (as written, as a percentage, or in MiB/GiB, rounded as quoted), the verdict and its
uncertainty are stated, and the hardware the numbers came from is named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["RUBRIC", "grade_decision", "load_summary", "quoted_numbers", "summary_numbers"]

RUBRIC = {
    "numbers": "every number quoted is in the summary (a value, a change, a limit, a size or a speed)",
    "uncertainty": "states the verdict and how sure it is (the margin, the bounds, or what more data would decide)",
    "hardware": "names the hardware the speeds and costs were measured on",
}
_UNCERTAIN = ("margin", "bound", "interval", "confidence", "uncertain", "inconclusive", "noise", "evidence",
              "more data", "more items", "more tokens", "significan")
_NUMBER = re.compile(r"(?<![\w.])[-+−]?\d[\d,]*(?:\.\d+)?(?![\w])")


def _values(x: Any) -> Iterator[float]:
    if isinstance(x, bool):
        return
    if isinstance(x, (int, float)):
        yield float(x)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _values(v)
    elif isinstance(x, list):
        for v in x:
            yield from _values(v)
    elif isinstance(x, str):  # numbers inside the summary's own sentences count too
        yield from quoted_numbers(x)


def summary_numbers(summary: dict[str, Any]) -> set[float]:
    """Every number a paragraph may quote: the summary's values, as fractions, percentages, MiB/GiB and ratios.

    Args:
        summary: a pilot report's ``summary.json``.
    """
    raw = set(_values({k: v for k, v in summary.items() if k != "schema"}))
    eff = {r["method"]: r for r in summary.get("efficiency", [])}
    base = eff.get("baseline", {})
    for row in eff.values():
        for key in ("memory_bytes", "stored_bytes", "decode_tokens_per_s", "decode_ms_p50"):
            if row.get(key) and base.get(key):
                ratio = row[key] / base[key]
                raw |= {ratio, 1 / ratio, 1 - ratio, ratio - 1}
    out = set()
    for v in raw:
        out |= {v, abs(v), v * 100, abs(v) * 100}
        if abs(v) > 2**20:
            out |= {v / 2**20, v / 2**30, v / 1e6, v / 1e9}
    return out


def quoted_numbers(text: str) -> list[float]:
    """The numbers in a piece of prose (thousands separators and a leading sign allowed).

    Args:
        text: the paragraph.
    """
    return [float(m.replace(",", "").replace("−", "-")) for m in _NUMBER.findall(text)]


def _matches(q: float, allowed: set[float], written: str) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    slack = 0.5 * 10 ** -decimals + 1e-9
    return any(abs(abs(q) - abs(v)) <= max(slack, 0.005 * abs(v)) for v in allowed)


def grade_decision(text: str, *, summary: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    """Grade a decision paragraph: rubric point → (met, what is missing or wrong).

    Args:
        text: the learner's paragraph.
        summary: the pilot report's ``summary.json`` it was written from.
    """
    allowed = summary_numbers(summary)
    written = _NUMBER.findall(text)
    wrong = [w for w in written if not _matches(float(w.replace(",", "").replace("−", "-")), allowed, w)]
    low = text.lower()
    status = (summary.get("decision") or {}).get("status") or ""
    verdict_words = {"pass": ("pass", "within"), "fail": ("fail", "beyond", "exceed"),
                     "inconclusive": ("inconclusive", "cannot tell", "undecided")}.get(status, (status,))
    hw = summary.get("hardware") or {}
    names = [str(hw[k]).lower() for k in ("label", "cpu", "gpu") if hw.get(k)] or [str(hw.get("device", "")).lower()]
    return {
        "numbers": (bool(written) and not wrong,
                    "quote at least one measured number" if not written else
                    f"not in the summary (or rounded differently): {', '.join(wrong)}" if wrong else "ok"),
        "uncertainty": (any(w in low for w in verdict_words) and any(w in low for w in _UNCERTAIN),
                        f"say the verdict ({status or 'none'}) and how sure it is: the margin to the limit, the "
                        "bounds, or how much more data would decide"),
        "hardware": (any(n in low for n in names),
                     f"name where the numbers were measured (the summary's hardware: {', '.join(names) or 'none'})"),
    }


def load_summary(path: str) -> dict[str, Any]:
    """A pilot report's ``summary.json``: a path, or one bundled with the kit (``data/examples/pilot_summary.json``).

    Args:
        path: the file.
    """
    from kit._bundled import bundled_path

    found = Path(path).expanduser()
    found = found if found.exists() else bundled_path(*Path(path).parts)
    try:
        summary = json.loads(found.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitError(f"cannot read {path} ({exc}); give the summary.json of a `kit report pilot` folder") from None
    if not isinstance(summary, dict) or summary.get("kind") != "pilot":
        raise KitError(f"{path} is not a pilot report summary (kind 'pilot'); give a `kit report pilot` summary.json")
    return summary
