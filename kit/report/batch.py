"""``kit report batch``: one pilot report per inventory model that has a pilot, plus a roll-up page and JSON."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from kit.io import atomic_dir, atomic_write_json
from kit.report.html import page, render_table

__all__ = ["BATCH_KIND", "run_batch"]

BATCH_KIND = "report batch"  # the batch folder's kind (kit.io.check_replaceable)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in text).strip("-") or "model"


def run_batch(*, inventory: str | os.PathLike[str], out: str | os.PathLike[str], registry: str = "",
              run: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Write ``out/<model>/`` pilot reports for the inventory's models, ``out/index.html`` and ``out/rollup.json``.

    Args:
        inventory: the inventory CSV (its rows name the models and use cases).
        out: the batch folder to create (atomically: all reports or none).
        registry: the registry location ('' for the default).
        run: run a small pilot for models without one (otherwise they are listed as "no pilot yet").
        overwrite: replace an existing batch folder.
    """
    from kit.govern.adoption_csv import read_inventory
    from kit.govern.registry import Registry
    from kit.report.runner import check_out, run_report, store_summary
    from kit.report.summary import pilot_entries

    rows, example = read_inventory(Path(inventory))  # every value checked, errors as file:line
    out = check_out(out, kind=BATCH_KIND, overwrite=overwrite)  # before any kernel starts
    with Registry.open(registry or None) as reg:
        has_pilot = {r["model"]: bool(r.get("use_case")) and bool(
            pilot_entries(registry=reg, model=r["model"], use_case=r["use_case"])) for r in rows}
    table: list[dict[str, Any]] = []
    done: list[tuple[dict[str, Any], str]] = []
    with atomic_dir(out, overwrite=overwrite, kind=BATCH_KIND) as tmp:
        for r in sorted(rows, key=lambda r: -r["requests_per_day"]):
            row: dict[str, Any] = {"model": r["model"], "use_case": r.get("use_case") or None,
                                   "requests_per_day": r["requests_per_day"], "status": "no pilot yet",
                                   "decision": None, "report": None}
            if not r.get("use_case"):
                row["status"] = "no use case in the inventory"
            elif has_pilot[r["model"]] or run:
                summary = run_report(kind="pilot", out=tmp / _slug(r["model"]), store=False, parameters={
                    "model": r["model"], "use_case": r["use_case"], "registry": registry, "run_if_missing": run,
                    "requests_per_day": r["requests_per_day"]})
                d = summary["decision"]
                row |= {"status": d["status"], "decision": d["headline"], "report": f"{_slug(r['model'])}/report.html"}
                done.append((summary, _slug(r["model"])))
            table.append(row)
        rollup = {"schema": "kit.batch/1", "inventory": str(inventory), "example_data": example, "models": table,
                  "reports": len(done)}
        atomic_write_json(tmp / "rollup.json", rollup)
        body = render_table(table, caption="One pilot report per model, highest volume first", status_columns=("status",))
        for row in table:  # link each report (render_table escapes text, so links are added here)
            if row["report"]:
                body = body.replace(f">{html.escape(row['report'])}<", f"><a href=\"{html.escape(row['report'])}\">"
                                    f"{html.escape(row['model'])} report</a><", 1)
        note = "<p><b>EXAMPLE DATA</b>: the inventory is fictional.</p>" if example else ""
        (tmp / "index.html").write_text(page(note + body, title="Pilot reports: roll-up"), encoding="utf-8")
    for summary, slug in done:  # the folder is in place: store each summary on its entries
        store_summary(summary=summary, registry=registry, path=out / slug)
    return rollup
