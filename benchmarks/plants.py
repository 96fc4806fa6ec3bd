"""How clearly each planted regression's gate separates the plant from its documented fix.

    python benchmarks/plants.py                    # every plant; merges ``plants`` into results.json
    python benchmarks/plants.py --only off-domain-calibration --no-full

Each bundled planted regression (data/regressions) is built as the tests build it (its real
``kit quantize`` recipe, cached, plus its faults) and gated without and with its documented
fix: at the plant's rehearsal size (what tests/debug/test_regressions.py and notebook 09 use:
``rehearsal: {max_tokens: N}`` or the default 256 tokens / 20 items) and, for a use case gated
on text alone, on the full sets. Every line carries its margin to the limit in minimum
detectable changes (:func:`kit.debug.oracle.margins_in_mdc`): −2 is a miss by twice the MDC.
Third-party warnings go to ``benchmarks/.plants.log``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import _read, merge_section, run_facts

from kit.console import quiet_libraries, stage


def _gate(verdict: Any) -> dict[str, Any]:
    """A verdict as the section keeps it: decision, and per line delta, limit, bounds, MDC, margin in MDCs."""
    from kit.debug.oracle import margins_in_mdc

    margins = margins_in_mdc(verdict)

    def r(x: float | None, n: int = 4) -> float | None:
        return None if x is None else round(x, n)
    return {"decision": verdict.decision, "lines": [
        {"metric": m.metric, "eval_set": m.eval_set, "status": m.status, "delta": r(m.delta), "limit": m.limit,
         "limit_kind": m.limit_kind, "interval": [r(x) for x in m.interval] if m.interval else None,
         "mdc": r(m.mdc), "margin_mdc": r(margins[m.metric], 2), "samples": m.samples} for m in verdict.metrics]}


def clearest_miss(gate: dict[str, Any]) -> float | None:
    """The largest miss beyond a limit in MDCs (positive), None when no line is beyond its limit.

    Args:
        gate: one candidate's gate as :func:`_gate` keeps it.
    """
    misses = [-x["margin_mdc"] for x in gate["lines"] if x["margin_mdc"] is not None and x["margin_mdc"] < 0]
    return max(misses) if misses else None


def measure(name: str, *, baseline: Any, full: bool, oracles: dict[Any, Any]) -> dict[str, Any]:
    """Gate one planted regression and its documented fix at its rehearsal size (and on the full sets).

    Args:
        name: the planted regression.
        baseline: the loaded baseline.
        full: also gate on the full sets where the use case is gated on text alone.
        oracles: (use case, tokens, items) → ``GateOracle``, shared between plants (the baseline scored once).
    """
    from kit.debug.oracle import REHEARSAL_ITEMS, GateOracle
    from kit.debug.regressions import base_artifact, build_candidate, fixed_candidate, load_candidate, load_regression
    from kit.debug.regressions import recipe as recipe_of
    from kit.govern.policy import get_policy

    reg = load_regression(name)
    base = load_candidate(base_artifact(recipe_of(reg)))
    fix = reg.answer["fix"]
    plant = build_candidate(reg, base=base, baseline=baseline)
    fixed = fixed_candidate(reg, fix=fix, base=base, baseline=baseline)
    text_only = all(m.spec.samples == "tokens" for m in get_policy(reg.use_case).metrics)
    sizes = [(reg.rehearsal_size(), REHEARSAL_ITEMS)] + ([(None, None)] if full and text_only else [])
    gates = []
    for tokens, items in sizes:
        key = (reg.use_case, tokens, items)
        if key not in oracles:
            oracles[key] = GateOracle(baseline=baseline, use_case=reg.use_case, max_tokens=tokens, limit=items)
        size = "full sets" if tokens is None else f"{tokens} tokens" + ("" if text_only else f" / {items} items")
        gates.append({"size": size, "plant": _gate(oracles[key](plant)), "fix": _gate(oracles[key](fixed))})
    return {"name": name, "use_case": reg.use_case, "method": reg.quantize.get("method"),
            "cause": reg.answer["cause"], "fix": fix, "rehearsal_tokens": reg.rehearsal_tokens, "gates": gates}


def _cell(gate: dict[str, Any]) -> str:
    def delta(x: dict[str, Any]) -> str:
        return f"{x['delta']:+.1%}" if x["limit_kind"] == "relative" else f"{x['delta']:+.3f}"
    return f"**{gate['decision']}** · " + ", ".join(
        f"{x['metric']} {delta(x)} ({x['margin_mdc']:+.2f})" if x["margin_mdc"] is not None
        else f"{x['metric']} {x['status']}" for x in gate["lines"])


def section_md(res: dict[str, Any], facts: list[str]) -> list[str]:
    """The section's Markdown: one row per plant and gate size.

    Args:
        res: the ``plants`` part of results.json.
        facts: its machine/date/commit lines.
    """
    from kit.debug.oracle import CLEAR_MISS_MDC

    lines = [f"## Planted regressions: how clearly each gate separates plant and fix ({res['mode']})", "", *facts, "",
             "Each line: its change against the baseline and, in brackets, its margin to the limit in minimum "
             "detectable changes (−2: beyond the limit by twice the MDC; +2: inside it by twice the MDC).", "",
             "| regression | recipe | gate | plant | documented fix | measured |", "|---|---|---|---|---|---|"]
    for p in res["rows"]:
        when = p.get("measured") or {"date": res["date"], "commit": res["commit"]}
        lines += [f"| {p['name']} | {p['method']} ({p['use_case']}) | {g['size']} | {_cell(g['plant'])} | "
                  f"{_cell(g['fix'])} | {str(when['date'])[:10]} {str(when['commit'])[:7]} |" for g in p["gates"]]
    near = [f"{p['name']} ({p['gates'][0]['size']}: {m:.2f})" if m is not None else f"{p['name']} (no line beyond a limit)"
            for p in res["rows"] for m in [clearest_miss(p["gates"][0]["plant"])] if m is None or m < CLEAR_MISS_MDC]
    return lines + ["", f"Plants whose clearest rehearsal line is less than {CLEAR_MISS_MDC:g} MDCs beyond its limit: "
                    + ("; ".join(near) if near else "none") + "."]


def main(argv: list[str] | None = None) -> int:
    """Measure and merge the ``plants`` section."""
    from kit.debug.regressions import list_regressions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these planted regressions (default: all)")
    ap.add_argument("--no-full", action="store_true", help="rehearsal sizes only (no full-set gates)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="results folder (default benchmarks/)")
    args = ap.parse_args(argv)
    bundled = list_regressions()
    names = args.only or bundled
    unknown = sorted(set(names) - set(bundled))
    if unknown:
        print(f"error: no planted regression {', '.join(unknown)}; choose from: {', '.join(bundled)}",
              file=sys.stderr)
        return 2
    facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/plants.py")
    from kit.models import DEFAULT_MODEL, load_model

    rows: list[dict[str, Any]] = []
    measured = {"date": facts["date"], "commit": facts["commit"]}
    with quiet_libraries(Path(args.out) / ".plants.log"):
        baseline = load_model(DEFAULT_MODEL, device="cpu")
        oracles: dict[Any, Any] = {}
        for name in names:
            row = measure(name, baseline=baseline, full=not args.no_full, oracles=oracles) | {"measured": measured}
            rows.append(row)
            stage("plants", f"{name}: " + "; ".join(
                f"{g['size']} plant {g['plant']['decision']} (clearest miss {clearest_miss(g['plant']) or 0:.2f} MDC), "
                f"fix {g['fix']['decision']}" for g in row["gates"]))
    # --only re-measures some plants and keeps the others' rows from the earlier run, each with its date
    earlier = (_read(Path(args.out)).get("plants") or {}).get("rows", [])
    kept = [r for r in earlier if r["name"] not in names and r["name"] in bundled]
    rows = sorted(kept + rows, key=lambda r: bundled.index(r["name"]))
    merge_section(Path(args.out), "plants", facts | {"rows": rows}, quick=args.no_full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
