"""Sequential vs full pilot: the four-method chat-assistant pilot both ways, baseline from its cache in both.

    python benchmarks/sequential_pilot.py                       # full bundled sets (run on a quiet machine)
    python benchmarks/sequential_pilot.py --quick --out /tmp/seq --methods bnb-int8 bnb-nf4   # smoke run

Fills the baseline-record cache first (so neither pilot pays for the baseline), then runs
``run_pilot(full=True)`` and the default look-by-look pilot on the same candidates, and
writes ``<out>/sequential.json`` and ``<out>/SEQUENTIAL.md``: machine, load, wall time and
stage timings of each, the candidates' own forward-pass seconds (their fraction under the
sequential plan), what fraction of each set each candidate used and why it stopped, and
every verdict line that differs (with its numbers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import finish_facts, run_facts

from kit.console import stage
from kit.eval.cache import RecordCache
from kit.eval.harness import Protocol
from kit.govern.pilot import evaluate_sets, run_pilot
from kit.govern.pilot_looks import stop_line
from kit.govern.policy import get_policy
from kit.io import atomic_write_json
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


def _markdown(res: dict[str, Any]) -> str:
    f = res["facts"]
    c = res["comparison"]
    fw = c["candidate_forward_s"]
    out = ["# Sequential vs full pilot", "",
           f"Machine: {f['machine']}; date {f['date']}; commit {f['commit']}; load {f['load_start']} → "
           f"{f['load_end']}{' (CONTENDED: timings unreliable)' if f['contended'] else ''}; mode {res['mode']}.",
           f"Command: `{f['command']}`. Use case {USE_CASE}, methods {', '.join(res['methods'])}; baseline from its "
           "cache in both runs.", "",
           "| | full | sequential |", "|---|---|---|",
           f"| wall s | {c['wall_s']['full']:.1f} | {c['wall_s']['sequential']:.1f} |",
           f"| evaluate s | {c['evaluate_s']['full']:.1f} | {c['evaluate_s']['sequential']:.1f} |",
           f"| candidate forward-pass s | {sum(fw['full'].values()):.1f} | {sum(fw['sequential'].values()):.1f} "
           f"({fw['fraction']}) |", "",
           "| method | full | sequential | forward s full → sequential |", "|---|---|---|---|"]
    out += [f"| {m} | {d[0]} | {d[1]} | {fw['full'][m]:.1f} → {fw['sequential'][m]:.1f} |"
            for m, d in c["decisions"].items()]
    out += ["", "Scored per candidate (sequential):", ""]
    out += [f"- {stop_line(m, ev)}" for m, ev in c["evaluation"].items()]
    out += ["", "Verdict lines that differ: " + ("none" if not c["line_differences"] else "")]
    out += [f"- {d['method']} {d['metric']}: full {d['full']}; sequential {d['sequential']}"
            for d in c["line_differences"]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run both pilots and write the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (1,024 tokens, 16 items): a smoke run")
    ap.add_argument("--methods", nargs="+", default=list(PILOT_METHODS), help="candidates (default: all four)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="folder for the two result files")
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
    res = {"mode": "quick" if args.quick else "full", "methods": list(args.methods),
           "comparison": compare(runs["full"], runs["sequential"]), "facts": finish_facts(facts)}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "sequential.json", res)
    text = _markdown(res)
    (out / ".SEQUENTIAL.md.tmp").write_text(text, encoding="utf-8")
    (out / ".SEQUENTIAL.md.tmp").replace(out / "SEQUENTIAL.md")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
