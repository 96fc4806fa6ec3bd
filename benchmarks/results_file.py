"""The one results file pair, ``benchmarks/RESULTS.md`` + ``benchmarks/results.json``, shared by run.py and study.py.

``results.json`` holds the benchmark figures at the top level (schema ``kit.bench/1``) and the
recovery study under ``study``; each script replaces only its own part, keeps the other, and
re-renders ``RESULTS.md`` from the whole file. Every part carries its own machine, date,
commit, command and load average.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.environment import describe_environment
from kit.io import atomic_write_json

__all__ = ["DOC_BLOCKS", "PARTS", "SCHEMA", "merge_section", "render", "render_section", "run_facts", "study_table", "sync_docs",
           "write_bench"]

SCHEMA = "kit.bench/1"
#: The parts other scripts merge into results.json (run.py's figures replace the top level, never these).
PARTS = ("study", "engines", "sequential", "source_grid", "plants")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_facts(argv: list[str], *, script: str) -> dict[str, Any]:
    """Machine, date, commit, command and load average now (stated with every result).

    Args:
        argv: the script's arguments.
        script: the script's path, as typed.
    """
    env = describe_environment(device="cpu")
    hw = env.get("hardware", {})
    cores = os.cpu_count() or 1
    load = _load()
    isa = f" ({hw['cpu_capability']})" if hw.get("cpu_capability") else ""
    return {"machine": f"{platform.node()} · {hw.get('cpu') or platform.processor()}{isa} · {cores} cores · "
                       f"{hw.get('gpu') or 'no GPU'}",
            "date": utc_now(), "commit": env.get("git_commit"),
            "command": " ".join(["python", script, *argv]), "load_start": load, "cores": cores,
            "environment": env}


def finish_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` plus the load average at the end and whether the run was contended."""
    end = _load()
    # The run itself keeps about `cores` threads busy (load ≈ cores); more than half a core beyond
    # that at the start or the end means another job shared the machine.
    return facts | {"load_end": end, "contended": max(facts["load_start"][0], end[0]) > facts["cores"] + 0.5}


def _read(out: Path) -> dict[str, Any]:
    path = out / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else {}


def _write(out: Path, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "results.json", data)
    md = out / "RESULTS.md"
    tmp = md.with_name(".RESULTS.md.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, md)


def write_bench(out: Path, bench: dict[str, Any]) -> None:
    """Replace the benchmark figures (top level), keep the study (and an engines part the run did not measure).

    Args:
        out: the results folder.
        bench: run.py's figures.
    """
    kept = {k: v for k, v in _read(out).items() if k in PARTS and k not in bench}
    _write(out, {"schema": SCHEMA, **bench, **kept})


def merge_section(out: Path, key: str, section: dict[str, Any], *, quick: bool) -> None:
    """Replace one named part (e.g. ``study``), keep everything else.

    Args:
        out: the results folder.
        key: the part's key.
        section: its content (with :func:`run_facts`).
        quick: whether it was a smoke run (stated in the Markdown).
    """
    data = _read(out) or {"schema": SCHEMA}
    data[key] = finish_facts(section) | {"mode": "quick" if quick else "full"}
    _write(out, data)


def _facts_lines(res: dict[str, Any]) -> list[str]:
    return [f"- machine: {res['machine']}", f"- date: {res['date']}", f"- commit: {res['commit']}",
            f"- command: `{res['command']}`",
            f"- load average at start / end: {res['load_start']} / {res['load_end']}"
            + (" — CONTENDED (load above cores + 0.5): timings not representative" if res.get("contended") else "")]


def _latency_row(lat: dict[str, Any]) -> str:
    """The decode-latency CV row, saying what one measurement is."""
    row = f"| decode latency CV | {lat['cv']} over {lat['repeats']} "
    if "per_measurement" not in lat:  # results written before the harness-figure measurement
        return row + "repeats |"
    m = lat["per_measurement"]
    return (row + f"harness measurements ({m['warmup']} warm-up + {m['repeats']} repeats × {m['new_tokens']} tokens "
            f"each, as a record measures it; mean {lat['decode_ms_mean']} ms/token) |")


def _bench_md(res: dict[str, Any]) -> list[str]:
    q, r, p, h = res["quantize"], res["recovery"], res["pilot"], res["throughput"]
    lines = [f"## Benchmark ({res['mode']})", "", *_facts_lines(res),
             f"- sizes: {res['sizes']}", f"- total: {res['seconds']} s", "",
             "| figure | value |", "|---|---|",
             f"| harness / bare forward throughput | {h['ratio']} ({h['harness_tok_s']} vs {h['bare_tok_s']} tok/s, "
             f"{h['tokens']} tokens) |",
             f"| AWQ / GPTQ quantization time | {res['awq_over_gptq']} |",
             f"| pilot wall / floor | {p['wall_over_floor']} ({p['wall_s']} s vs {p['floor_s']} s) |",
             f"| accuracy identical on rerun | {res['rerun']['identical']} {res['rerun']['values']} |",
             _latency_row(res["latency"]),
             *(f"| `kit debug` on the pilot's GPTQ artifact, {n} tokens | {d['total_s']} s (load {d['load_s']} s), "
               f"peak RSS {d['peak_rss_mib']} MiB of which weights {d['weights_mib']} MiB |"
               for n, d in res.get("debug", {}).items()), "",
             f"Recovery on stdlib-docs, {r['tokens']} scored tokens (baseline ppl {r['baseline_ppl']}), each method "
             "at its sanctioned scheme, RTN at the same format as the reference:", "",
             "| method | quantize s | ppl | recovery of RTN loss | bytes | theoretical | ratio |",
             "|---|---|---|---|---|---|---|"]
    for m, row in q.items():
        lines.append(f"| {m} ({row['bits']}-bit) | {row['seconds']} | {r['methods'][m]['ppl']} | "
                     f"{r['methods'][m]['recovery']} | {row['weight_bytes']} | {row['theoretical_bytes']} | "
                     f"{row['bytes_ratio']} |")
    return lines


def study_table(res: dict[str, Any]) -> str:
    """The recovery study's Markdown table (also kept, generated, in docs/quantization.md).

    Args:
        res: the ``study`` part of ``results.json``.
    """
    def measured(r: dict[str, Any]) -> str:
        m = r.get("measured") or {"commit": res["commit"], "date": res["date"]}
        return f"{str(m['date'])[:10]} {str(m['commit'])[:7]}"

    lines = ["| configuration | quantize s | ppl | recovery | everyday-mc acc | measured |",
             "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r['key']} | {r['quantize_s']} | {r['ppl']} | {r['recovery']} | {r['mc_acc']} | {measured(r)} |"
              for r in res["rows"]]
    b = res["baseline"]
    lines += ["", f"Baseline: stdlib-docs ppl {b['ppl']} on {b['tokens']} tokens; everyday-mc accuracy {b['mc_acc']} on "
              f"{b['mc_items']} items. Recovery is against min-max RTN at the same symmetry and group size. "
              f"Each row was measured at the date and commit shown (a resumed run keeps finished rows whose "
              f"configuration and scoring are unchanged); this run {str(res['date'])[:10]}, commit "
              f"{str(res['commit'])[:7]}, {res['machine']}, `{res['command']}`"
              + (" (CONTENDED: timings not representative)" if res.get("contended") else "") + "."]
    return "\n".join(lines)


def _study_md(res: dict[str, Any]) -> list[str]:
    lines = [f"## Recovery study ({res['mode']})", "", *_facts_lines(res), "",
             f"The anchor is {res['anchor']:.0%} (GPTQ paper, OPT-125M).", "", study_table(res)]
    lines += ["", "Best at the default calibration and group size 64: " + "; ".join(
        f"{m} `{v['key']}` ({v['recovery']})" for m, v in res["recommended"].items()) + "."]
    return lines


def _source_grid_md(res: dict[str, Any]) -> list[str]:
    rel = res["relative_mse"]
    return [f"### The baseline's Q4_1 source grid ({res['mode']})", "", *_facts_lines(res), "",
            f"{res['blocks_on_16_levels']:,} of {res['source_blocks']:,} aligned 32-weight blocks of the "
            f"{res['matrices']} quantized matrices hold at most 16 distinct values (the GGUF Q4_1 grid). Relative "
            f"squared error of asymmetric int4 min-max rounding (compressed-tensors): group 32 aligned to the blocks "
            f"{rel['g32_aligned']}, misaligned by 16 columns {rel['g32_misaligned']} (ratio "
            f"{res['aligned_over_misaligned']}), group 64 {rel['g64']} ({res['g64_over_g32']} x group 32)."]


def _engines_md(res: dict[str, Any]) -> list[str]:
    """Decode speed and memory per method per engine (benchmarks/engines.py), ratios, targets and the profile."""
    mib = 2**20
    lines = [f"## Engines: decode speed and memory per method per engine ({res['mode']})", "", *_facts_lines(res),
             f"- CPU capability (torch): {res['cpu_capability']}; torch threads: {res['threads']}",
             f"- sizes: {res['sizes']}; HF generate, batch 1, greedy; each model in its own process, "
             f"{res['sizes']['rounds']} interleaved round(s)",
             f"- served baseline (the faster of fp32 and bf16 in this run): {res['served_baseline']}", "",
             "| model | engine | decode tok/s (median; range) | × fp32 | × served baseline | weights MiB | "
             "× fp32 bytes | RSS after load / after decode MiB |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        e = r["engine"]
        label = f"{e['name']} ({', '.join(x for x in (e.get('backend'), e.get('activations')) if x)})"
        lines.append(f"| {r['name']} | {label} | {r['tok_s']} ({r['tok_s_range'][0]}–{r['tok_s_range'][1]}) | "
                     f"{r['vs_fp32']} | {r['vs_served']} | {r['weight_bytes'] / mib:.1f} | {r['bytes_vs_fp32']} | "
                     f"{r['rss_after_load_bytes'] / mib:.0f} / {r.get('rss_after_decode_bytes', 0) / mib:.0f} |")
    lines += ["", "| target (issue 21) | wanted | measured | met |", "|---|---:|---:|---|"]
    words = {"gptq_vs_fp32": "packed GPTQ tok/s × fp32", "gptq_vs_served": "packed GPTQ tok/s × served baseline",
             "gptq_bytes_vs_fp32": "packed GPTQ weight bytes × fp32 (at most)", "int8_vs_fp32": "int8 tok/s × fp32"}
    lines += [f"| {words.get(k, k)} | {res['targets'][k]} | {v} | {'yes' if res['met'][k] else 'NO'} |"
              for k, v in res["achieved"].items()]
    prof = next((r["profile"] for r in res["rows"] if r.get("profile")), None)
    if prof:
        lines += ["", "Where packed GPTQ's decode time goes (torch.profiler, one generate, self CPU time):", "",
                  "| op | calls | self ms | share |", "|---|---:|---:|---:|"]
        lines += [f"| `{p['op']}` | {p['calls']} | {p['self_ms']} | {p['share']:.1%} |" for p in prof]
    return lines


def _sequential_md(res: dict[str, Any]) -> list[str]:
    """Sequential vs full pilot (benchmarks/sequential_pilot.py): wall and forward-pass time, decisions, differences."""
    c = res["comparison"]
    fw = c["candidate_forward_s"]
    out = [f"## Sequential vs full pilot ({res['mode']})", "", *_facts_lines(res),
           f"- use case {res['use_case']}, methods {', '.join(res['methods'])}; the baseline's records from its cache "
           "in both runs; candidates on their serving engines", "",
           "| | full | sequential |", "|---|---|---|",
           f"| wall s | {c['wall_s']['full']:.1f} | {c['wall_s']['sequential']:.1f} |",
           f"| evaluate s | {c['evaluate_s']['full']:.1f} | {c['evaluate_s']['sequential']:.1f} |",
           f"| candidate forward-pass s | {sum(fw['full'].values()):.1f} | {sum(fw['sequential'].values()):.1f} "
           f"({fw['fraction']}) |", "",
           "| method | full | sequential | forward s full → sequential |", "|---|---|---|---|"]
    out += [f"| {m} | {d[0]} | {d[1]} | {fw['full'][m]:.1f} → {fw['sequential'][m]:.1f} |"
            for m, d in c["decisions"].items()]
    out += ["", "Scored per candidate (sequential):", ""]
    out += [f"- {_stop_line(m, ev)}" for m, ev in c["evaluation"].items()]
    out += ["", "Verdict lines that differ: " + ("none" if not c["line_differences"] else "")]
    out += [f"- {d['method']} {d['metric']}: full {d['full']}; sequential {d['sequential']}"
            for d in c["line_differences"]]
    return out


def _stop_line(method: str, evaluation: dict[str, Any]) -> str:
    from kit.govern.pilot_looks import stop_line

    return stop_line(method, evaluation)


def _plants_md(res: dict[str, Any]) -> list[str]:
    """The planted regressions' separation (benchmarks/plants.py renders its own section)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("plants_section", Path(__file__).resolve().parent / "plants.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return list(module.section_md(res, _facts_lines(res)))


def render_section(key: str, out: Path) -> str:
    """The Markdown of one part of ``<out>/results.json`` (what a script prints after merging it).

    Args:
        key: one of :data:`PARTS`.
        out: the results folder.
    """
    res = _read(out)[key]
    return "\n".join({"engines": _engines_md, "sequential": _sequential_md, "study": _study_md,
                      "source_grid": _source_grid_md, "plants": _plants_md}[key](res)) + "\n"


def render(data: dict[str, Any]) -> str:
    """The Markdown of the whole results file (benchmark first, then the study).

    Args:
        data: the content of ``results.json``.
    """
    lines = ["# Benchmark results", "",
             "Written by `make bench` (benchmarks/run.py, engines.py, sequential_pilot.py) and benchmarks/study.py "
             "(+ source_grid.py, plants.py); "
             "the figures quoted in the README, "
             "docs and notebooks come from here.", ""]
    if "throughput" in data:
        lines += [*_bench_md(data), ""]
    if "engines" in data:
        lines += [*_engines_md(data["engines"]), ""]
    if "sequential" in data:
        lines += [*_sequential_md(data["sequential"]), ""]
    if "study" in data:
        lines += [*_study_md(data["study"]), ""]
    if "source_grid" in data:
        lines += [*_source_grid_md(data["source_grid"]), ""]
    if "plants" in data:
        lines += [*_plants_md(data["plants"]), ""]
    return "\n".join(lines)


def _pilot_table(root: Path) -> str:
    """The docs' pilot table, from the full-set pilot ``make bench`` ran (``benchmarks/pilot.json``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pilot_table", root / "scripts" / "pilot_table.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    result = json.loads((root / "benchmarks" / "pilot.json").read_text(encoding="utf-8"))
    return str(module.table(result))


def _speed_table(root: Path) -> str:
    """Memory and batch-1 speed per method on this CPU, from the same full-set pilot (``benchmarks/pilot.json``)."""
    result = json.loads((root / "benchmarks" / "pilot.json").read_text(encoding="utf-8"))
    models = [("baseline (fp32)", result["baseline"]["records"])]
    models += [(c["method"], c["records"]) for c in result["candidates"]]
    lines = ["| model | stored MiB | in memory MiB | prefill ms (128 tokens) | decode ms/token (mean, p50) |",
             "|---|---:|---:|---:|---:|"]
    stored = {row["method"]: row["stored_MiB"] for row in result["table"]}
    for name, records in models:
        r = next(x for x in records if x.get("latency"))  # speed is measured on the first set
        lat = r["latency"]
        lines.append(f"| {name} | {stored['baseline' if name.startswith('baseline') else name]} | "
                     f"{r['memory']['weight_bytes'] / 2**20:.1f} | {lat['prefill_ms']:.0f} | "
                     f"{lat['decode_ms_mean']:.1f}, {lat['decode_ms_p50']:.1f} |")
    lines += ["", f"Measured by `make bench` (the full pilot), {str(result['baseline']['records'][0]['created_at'])[:10]}, "
              f"batch 1, {models[0][1][0]['latency']['warmup']} warm-up + {models[0][1][0]['latency']['repeats']} "
              f"repeats per model; figures from benchmarks/pilot.json."]
    return "\n".join(lines)


#: Generated blocks in the docs: (file, marker, function of the repository root → Markdown).
DOC_BLOCKS = (
    ("docs/quantization.md", "STUDY-TABLE", lambda root: study_table(_read(root / "benchmarks")["study"])),
    ("docs/gate-and-registry.md", "PILOT-TABLE", _pilot_table),
    ("docs/quantization.md", "CPU-SPEED", _speed_table),
    ("docs/debugging.md", "PLANTS-TABLE", lambda root: "\n".join(_plants_md(_read(root / "benchmarks")["plants"])[2:])),
)


def _block(text: str, marker: str) -> tuple[int, int]:
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {start} … {end} not found")
    return i + len(start), j


def sync_docs(root: Path, *, check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, compare) every generated block of the docs from ``benchmarks/results.json``.

    Args:
        root: the repository root.
        check: only report the files whose block differs.
    """
    stale = []
    for rel, marker, make in DOC_BLOCKS:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        i, j = _block(text, marker)
        want = "\n" + make(root) + "\n"
        if text[i:j] != want:
            stale.append(rel)
            if not check:
                path.write_text(text[:i] + want + text[j:], encoding="utf-8")
    return stale


if __name__ == "__main__":
    import sys

    changed = sync_docs(Path(__file__).resolve().parents[1], check="--check" in sys.argv)
    print("\n".join(f"{'stale' if '--check' in sys.argv else 'rewrote'} {f}" for f in changed) or "docs in sync")
    sys.exit(1 if changed and "--check" in sys.argv else 0)
