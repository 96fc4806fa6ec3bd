#!/usr/bin/env python3
"""Print the Markdown pilot table of docs/gate-and-registry.md from a `kit pilot --json` result.

Usage:  python scripts/pilot_table.py RESULT.json

One row per model: stored size, perplexity with its change and the gate's bounds, top-1
agreement and KL, per-set accuracy with items lost / gained and the change's bounds, each
metric's status with its minimum detectable change (and the items or tokens that would
decide an inconclusive line), and the verdict. Numbers come only from the result file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PER_ITEM = ("accuracy", "contains_match")


def _bounds(line: dict[str, Any], scale: float, unit: str) -> str:
    lo, hi = line["interval"] or (None, None)
    return "no bounds" if lo is None else f"[{lo * scale:+.2f}, {hi * scale:+.2f}]{unit}"


def _item(line: dict[str, Any]) -> str:
    t = line["test"]
    return (f"{line['value']:.3f} ({t['lost']}/{t['gained']} of {line['samples']}; "
            f"Δ {line['delta'] * 100:+.1f} pts {_bounds(line, 100, '')})")


def _status(line: dict[str, Any]) -> str:
    if line.get("mdc") is None:
        return f"{line['metric']} {line['status']}"
    unit = " pts" if line["metric"] in PER_ITEM else " %" if line["limit_kind"] == "relative" else ""
    mdc = line["mdc"] * (100 if unit else 1)
    needed = f", ≈{line['needed']} {line['sample_unit']} would decide" if line.get("needed") else ""
    return f"{line['metric']} {line['status']} (mdc {mdc:.3g}{unit}{needed})"


def table(result: dict[str, Any]) -> str:
    """The Markdown table for one pilot result.

    Args:
        result: the JSON written by ``kit pilot --json``.
    """
    base = {r["eval_set"]["name"]: r for r in result["baseline"]["records"]}
    rows = ["| method | stored MiB | ppl (Δ, bounds) | top-1 | KL | everyday-mc acc (lost/gained; Δ, bounds) "
            "| short-answers match (lost/gained; Δ, bounds) | status per metric | verdict |",
            "|---|---:|---|---:|---:|---|---|---|---|"]
    acc = {name: base[name]["accuracy"] for name in ("everyday-mc", "short-answers") if name in base}
    rows.append(f"| baseline (fp32) | {base['stdlib-docs']['memory']['weight_bytes'] / 2**20:.1f} "
                f"| {base['stdlib-docs']['accuracy']['perplexity']:.3f} | – | – "
                f"| {acc['everyday-mc']['accuracy']:.3f} ({acc['everyday-mc']['items']} items) "
                f"| {acc['short-answers']['contains_match']:.3f} ({acc['short-answers']['items']} items) | – | – |")
    for c in result["candidates"]:
        lines = {m["metric"]: m for m in c["verdict"]["metrics"]}
        text = {r["eval_set"]["name"]: r for r in c["records"]}["stdlib-docs"]
        stored = int((c.get("config") or {}).get("weight_bytes") or c["records"][0]["memory"]["weight_bytes"])
        p = lines["perplexity"]
        ppl = f"{p['value']:.3f} ({p['delta'] * 100:+.2f} % {_bounds(p, 100, ' %')})"
        agreement = text["agreement"]
        rows.append(f"| {c['method']} | {stored / 2**20:.1f} | {ppl} | {agreement['top1']:.3f} "
                    f"| {agreement['kl_mean']:.4f} | {_item(lines['accuracy'])} | {_item(lines['contains_match'])} "
                    f"| {'; '.join(_status(m) for m in lines.values())} | **{c['verdict']['decision']}** |")
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/pilot_table.py RESULT.json  (written by `kit pilot --json RESULT.json`)")
    print(table(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
