"""Sequential vs full pilot: the four-method chat-assistant pilot both ways, baseline from its cache in both.

    python benchmarks/sequential_pilot.py                       # full bundled sets (run on a quiet machine)
    python benchmarks/sequential_pilot.py --quick --out /tmp/seq --methods bnb-int8 bnb-nf4   # smoke run

Fills the baseline-record cache first (so neither pilot pays for the baseline), then runs
``run_pilot(full=True)`` and the default look-by-look pilot on the same candidates, and
merges the ``sequential`` part of ``<out>/results.json`` and ``RESULTS.md`` (``make bench`` runs it
after benchmarks/run.py): machine, load, wall time and stage timings of each, the candidates' own
forward-pass seconds (their fraction under the sequential plan), what fraction of each set each
candidate used and why it stopped, and every verdict line that differs (with its numbers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import merge_section, render_section, run_facts

from kit.console import stage
from kit.eval.cache import RecordCache
from kit.eval.harness import Protocol
from kit.govern.pilot import evaluate_sets, run_pilot
from kit.govern.policy import get_policy
from kit.models import DEFAULT_MODEL, load_model
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

PILOT_METHODS = ("bnb-int8", "bnb-nf4", "gptq", "awq")
USE_CASE = "chat-assistant"


def _forward(result: dict[str, Any]) -> dict[str, float]:
    """Each candidate's own forward-pass seconds over all sets."""
    return {c["method"]: round(sum(r["seconds"]["scoring"] for r in c["records"]), 3) for c in result["candidates"]}


def _lines(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["method"], m["metric"]): m for c in result["candidates"] for m in c["verdict"]["metrics"]}


def _fmt(m: dict[str, Any]) -> str:
    bounds = "[" + ", ".join(f"{x:+.4f}" for x in m["interval"]) + "]" if m.get("interval") else "-"
    look = f" look {m['look']}/{m['looks']}" if m.get("look") else ""
    return f"{m['status']} (delta {m['delta']:+.4f}, bounds {bounds}, n {m['samples']}{look})"


def compare(full: dict[str, Any], seq: dict[str, Any]) -> dict[str, Any]:
    """Decisions, differing verdict lines, forward-pass seconds and wall times of the two pilots.

    Args:
        full: ``run_pilot(full=True)``'s result.
        seq: the sequential pilot's result.
    """
    a, b = _lines(full), _lines(seq)
    diffs = [{"method": k[0], "metric": k[1], "full": _fmt(a[k]), "sequential": _fmt(b[k])}
             for k in a if a[k]["status"] != b[k]["status"]]
    decisions = {c["method"]: [c["verdict"]["decision"], d["verdict"]["decision"]]
                 for c, d in zip(full["candidates"], seq["candidates"])}
    ff, fs = _forward(full), _forward(seq)
    return {"wall_s": {"full": full["timings"]["wall_s"], "sequential": seq["timings"]["wall_s"]},
            "evaluate_s": {"full": full["timings"]["evaluate_s"], "sequential": seq["timings"]["evaluate_s"]},
            "candidate_forward_s": {"full": ff, "sequential": fs,
                                    "fraction": round(sum(fs.values()) / sum(ff.values()), 3) if sum(ff.values()) else None},
            "decisions": decisions, "same_decisions": all(x == y for x, y in decisions.values()),
            "line_differences": diffs,
            "evaluation": {c["method"]: c["evaluation"] for c in seq["candidates"]},
            "stages": {"full": full["timings"], "sequential": seq["timings"]}}


def main(argv: list[str] | None = None) -> int:
    """Run both pilots and write the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (1,024 tokens, 16 items): a smoke run")
    ap.add_argument("--methods", nargs="+", default=list(PILOT_METHODS), help="candidates (default: all four)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent),
                    help="results folder: the 'sequential' part of RESULTS.md + results.json (default benchmarks/)")
    args = ap.parse_args(argv)
    facts = run_facts(sys.argv[1:] if argv is None else argv, script="benchmarks/sequential_pilot.py")
    out = Path(args.out)
    protocol = Protocol(max_tokens=1024, limit=16) if args.quick else Protocol()
    cal = CalibrationSpec(samples=4, seq_len=64) if args.quick else DEFAULT_CALIBRATION
    specs = [QuantSpec(method=m, calibration=cal) for m in args.methods]
    with tempfile.TemporaryDirectory(prefix="seq-bench-") as tmp:
        cache = RecordCache(Path(tmp) / "records")
        base = load_model(DEFAULT_MODEL, device="cpu")
        sets = [(name, protocol) for name in get_policy(USE_CASE).eval_sets]
        stage("bench", "filling the baseline cache (not timed)")
        evaluate_sets(model=base, baseline=None, sets=sets, measure_speed=True, progress=False, cache=cache)
        del base
        runs = {}
        for mode in ("full", "sequential"):
            stage("bench", f"{mode} pilot")
            runs[mode] = run_pilot(model=DEFAULT_MODEL, use_case=USE_CASE, candidates=specs, protocol=protocol,
                                   reason="benchmark: sequential vs full", out_dir=Path(tmp) / mode,
                                   registry=str(Path(tmp) / "registry.sqlite"), device="cpu", progress=False,
                                   cache=cache, full=mode == "full")
    section = facts | {"use_case": USE_CASE, "methods": list(args.methods),
                       "comparison": compare(runs["full"], runs["sequential"])}
    merge_section(out, "sequential", section, quick=args.quick)
    print(render_section("sequential", out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
