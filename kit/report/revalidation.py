"""What notebook 08 calls: the stale list, a re-run of each entry with its recorded protocol, before/after per entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError
from kit.report.html import render_sentence, render_table
from kit.report.params import REVALIDATION, check_parameters

__all__ = ["before_after", "prepare_revalidation", "render_revalidation"]


def before_after(*, previous: dict[str, Any], current: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per gated metric: value and status before and after, what moved, and whether it now fails.

    Args:
        previous: the verdict (dict) of the entry's last validation before the upgrade.
        current: the new verdict, or None when the re-run did not happen.
    """
    after = {(m["metric"], m["eval_set"]): m for m in (current or {}).get("metrics", [])}
    rows = []
    for m in previous["metrics"]:
        new: dict[str, Any] | None = after.get((m["metric"], m["eval_set"]))
        rows.append({"metric": m["metric"], "set": m["eval_set"], "before": m["value"], "before_status": m["status"],
                     "after": new["value"] if new else None, "status": new["status"] if new else None,
                     "moved": (new["value"] - m["value"]) if new else None,
                     "now_fails": new is not None and m["status"] == "pass" and new["status"] != "pass"})
    return rows


def prepare_revalidation(**parameters: Any) -> dict[str, Any]:
    """List stale entries, re-validate them (or the given ones) on this stack, and compare before/after.

    Args:
        parameters: the notebook parameters (see :data:`kit.report.params.REVALIDATION`).
    """
    from kit.govern.registry import Registry, current_stack, stack_changes
    from kit.govern.revalidate import revalidate
    from kit.report.pilot import default_output_dir

    p = check_parameters(schema=REVALIDATION, given=parameters)
    out = Path(p["output_dir"]) if p["output_dir"] else default_output_dir(kind="revalidation", name="upgrade")
    now = current_stack(device=p["device"] or None)
    results = []
    with Registry.open(p["registry"] or None) as reg:
        latest = reg.latest_validations()
        stale = [{"entry": e.id, "model": e.baseline_ref or e.model_ref, "method": e.method, "use_case": e.use_case,
                  "last_validated": latest[e.id].created_at[:16],
                  "changes": "; ".join(stack_changes(recorded=latest[e.id].stack, current=now))} for e in reg.stale(now)]
        chosen = [reg.get(e).id for e in p["entries"]] or [s["entry"] for s in stale]
        for entry_id in chosen:
            previous = reg.validations(entry_id)[-1]
            row: dict[str, Any] = {"entry": entry_id, "method": reg.get(entry_id).method, "error": None,
                                   "passed_before": previous.passed, "passed": None, "regressions": []}
            current = None
            if p["rerun"]:
                try:
                    r = revalidate(registry=reg, entry_id=entry_id, device=p["device"] or None)
                    current = r["verdict"]
                    row |= {"passed": r["passed"], "regressions": r["regressions"], "stack_changes": r["stack_changes"]}
                except KitError as exc:  # one missing artifact must not hide the others
                    row["error"] = str(exc)
            row["metrics"] = before_after(previous=previous.verdict, current=current)
            results.append(row)
        location = reg.location
    failing = [r for r in results if r["passed"] is False]
    headlines = [f"{len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'} on this stack; "
                 f"re-validated {sum(r['passed'] is not None for r in results)} of {len(results)}",
                 f"{len(failing)} now fail; {sum(bool(r['error']) for r in results)} could not be re-run"]
    return {"schema": "kit.revalidation/1", "kind": "revalidation", "title": "Re-validation after upgrade",
            "created_at": utc_now(),
            "stack": now, "stale": stale, "results": results, "headlines": headlines, "registry": location,
            "figures": [], "output_dir": str(out)}


def render_revalidation(data: dict[str, Any]) -> str:
    """The stale list and each entry's before/after as HTML.

    Args:
        data: from :func:`prepare_revalidation`.
    """
    parts = [render_sentence(h) for h in data["headlines"]]
    parts.append(render_table(data["stale"], caption="Stale entries (last validated on another stack)")
                 if data["stale"] else render_sentence("No stale entries: every entry was last validated on this stack.",
                                                       status="pass"))
    for r in data["results"]:
        status = "error" if r["error"] else "pass" if r["passed"] else "fail" if r["passed"] is False else None
        what = f"entry {r['entry']} ({r['method']}): " + (
            r["error"] or ("passes on this stack" if r["passed"] else "FAILS on this stack" if r["passed"] is False
                           else "listed, not re-run"))
        parts.append(render_sentence(what, status=status))
        rows = [{"metric": m["metric"], "set": m["set"], "before": m["before"], "before_status": m["before_status"],
                 "after": m["after"], "status": m["status"], "moved": None if m["moved"] is None else f"{m['moved']:+.4g}",
                 "now_fails": "yes" if m["now_fails"] else ""} for m in r["metrics"]]
        parts.append(render_table(rows, status_columns=("before_status", "status")))
    return "\n".join(parts)
