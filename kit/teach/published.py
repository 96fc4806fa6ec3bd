"""The measured figures notebooks quote, read from ``benchmarks/results.json`` (never typed by hand).

``make bench`` and ``benchmarks/study.py`` write that file (and ``benchmarks/RESULTS.md``); the
package ships a copy. Each figure comes with where and when it was measured, so a notebook can
say so next to the number.
"""

from __future__ import annotations

import json
from typing import Any

from kit.errors import KitError

__all__ = ["published", "provenance", "study_rows"]


def published(*keys: str) -> Any:
    """A value of the published results, e.g. ``published("study", "rows")``.

    Args:
        keys: the path of keys into ``results.json``.
    """
    from kit._bundled import bundled_path

    path = bundled_path("benchmarks", "results.json")
    try:
        value: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"no published benchmark results at {path}; run `make bench` (and benchmarks/study.py)") from None
    except ValueError as exc:
        raise KitError(f"{path} is not valid JSON ({exc}); re-run `make bench`") from None
    for i, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            raise KitError(f"{path} has no '{'.'.join(keys[:i + 1])}'; re-run the script that writes it "
                           "(make bench / benchmarks/study.py)")
        value = value[key]
    return value


def provenance(section: str | None = None) -> str:
    """One line saying where a part of the results was measured: date, commit, machine, command.

    Args:
        section: ``"study"`` for the recovery study, None for the benchmark run.
    """
    res = published(section) if section else published()
    return (f"measured {str(res['date'])[:10]} at commit {str(res['commit'])[:7]} on {res['machine']} "
            f"(`{res['command']}`; benchmarks/RESULTS.md)")


def study_rows(*, method: str | None = None, group_size: int | None = None) -> list[dict[str, Any]]:
    """Rows of the recovery study as a table: configuration, calibration tokens, ppl, recovery, MC accuracy.

    Args:
        method: only this method (``rtn``, ``gptq``, ``awq``).
        group_size: only this group size.
    """
    out = []
    for r in published("study", "rows"):
        if (method and r["method"] != method) or (group_size and r["group_size"] != group_size):
            continue
        cal = r.get("calibration") or {}
        out.append({"configuration": r["key"], "calibration_tokens": cal.get("samples", 0) * cal.get("seq_len", 0) or None,
                    "quantize_s": r["quantize_s"], "ppl": r["ppl"], "recovery": r["recovery"], "mc_acc": r["mc_acc"]})
    return out
