"""What the notebooks teach from the kit's own records: a real inconclusive gate line, measured cost ratios.

Nothing here is typed by hand: each value is read from a results file the kit wrote
(``benchmarks/pilot.json``, the registry), so a lesson stays true when the numbers change.
"""

from __future__ import annotations

import json
from typing import Any

from kit.errors import KitError

__all__ = ["describe_line", "inconclusive_line"]


def inconclusive_line() -> dict[str, Any]:
    """The first ``inconclusive`` line of the benchmark pilot's verdicts, with the method it belongs to.

    Returns the verdict line (``metric``, ``status``, ``note``, ``samples``, ``needed``...) plus ``method``.
    """
    from kit._bundled import bundled_path

    path = bundled_path("benchmarks", "pilot.json")
    try:
        pilot = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitError(f"cannot read the benchmark pilot {path} ({exc}); re-run `make bench`") from None
    for cand in pilot.get("candidates", []):
        for line in cand.get("verdict", {}).get("metrics", []):
            if line.get("status") == "inconclusive" and line.get("needed"):
                return {"method": cand.get("method"), **line}
    raise KitError(f"{path} has no inconclusive line with a 'needed' count; re-run `make bench`")


def describe_line(line: dict[str, Any]) -> str:
    """A verdict line as the gate prints it, in two lines: the numbers, then the note.

    Args:
        line: one entry of ``Verdict.to_dict()["metrics"]`` (``method`` optional).
    """
    fmt = (lambda x: f"{x * 100:+.2f}%") if line["limit_kind"] == "relative" else (lambda x: f"{x:+.4f}")
    bound = line["limit"] if line["direction"] == "lower" else -line["limit"]
    head = (f"{line.get('method', 'candidate')} · {line['metric']} on {line['eval_set']}: {line['value']:.4f} vs "
            f"baseline {line['baseline']:.4f}, delta {fmt(line['delta'])}, limit {'≤' if bound > 0 else '≥'} "
            f"{fmt(bound)}, n {line['samples']} {line['sample_unit']} → {line['status']}")
    return f"{head}\n  note: {line['note']}"
