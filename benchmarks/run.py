"""The kit's one benchmark run: every performance figure of issue 13, measured in one process, written once.

    python benchmarks/run.py                    # full sizes, writes benchmarks/ (the full pilot is most of its time)
    python benchmarks/run.py --quick --out /tmp/bench-smoke   # a few-minute smoke run, elsewhere
    python benchmarks/run.py --size samples=32 --size seq_len=512   # change one size (stated in the results)
    python benchmarks/engines.py                # only the engines section (decode speed and memory per engine)

Prints each figure as it is measured, then writes ``<out>/RESULTS.md`` (machine, date, commit,
command, load average at start and end) and ``<out>/results.json`` (stable keys). Run it on a
quiet machine: a load average above the core count at start or end makes the timings worthless,
and the file says so. Sizes are stated in both files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import engine_bench
from harness_throughput import bare_loop
from results_file import finish_facts, run_facts, write_bench

from kit.console import stage
from kit.eval.harness import Protocol, evaluate, tokens_for
from kit.eval.scoring import make_windows, score_perplexity
from kit.eval.sets import load_set
from kit.eval.timing import measure_latency
from kit.io import atomic_write_json
from kit.models import DEFAULT_MODEL, load_model
from kit.quant.methods import COMPARE_DEFAULT
from kit.quant.methods.llmc import SCHEMES
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

METHODS = COMPARE_DEFAULT  # what `kit compare` runs
PILOT_METHODS = tuple(m for m in COMPARE_DEFAULT if m != "rtn")  # every sanctioned method (rtn: the study's reference)


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Everything that scales the run (stated in the results)."""

    throughput_tokens: int = 4096
    throughput_repeats: int = 3
    samples: int = DEFAULT_CALIBRATION.samples  # the calibration every user gets by default
    seq_len: int = DEFAULT_CALIBRATION.seq_len
    pilot_tokens: int | None = None  # None: the full bundled sets, as a real pilot
    pilot_limit: int | None = None
    rerun_tokens: int = 4096  # the two identical evaluations (text + multiple choice)
    rerun_limit: int = 100
    latency_repeats: int = 12  # independent harness latency measurements (each: the protocol's repeats)


QUICK = Sizes(throughput_tokens=1024, throughput_repeats=2, samples=4, seq_len=64, pilot_tokens=512, pilot_limit=8,
              rerun_tokens=512, rerun_limit=8, latency_repeats=4)


def throughput(model: Any, *, sizes: Sizes) -> dict[str, Any]:
    """Harness perplexity tokens/s vs a bare batched forward loop over the same windows (alternated)."""
    ids = tokens_for(load_set("stdlib-docs"), model.tokenizer, max_tokens=sizes.throughput_tokens)
    windows = make_windows(len(ids), context_length=512, stride=512)
    bare_loop(model.model, ids, windows[:1], 1)  # warm-up
    harness, bare = [], []
    for _ in range(sizes.throughput_repeats):
        t0 = time.perf_counter()
        out = score_perplexity(model.model, ids, context_length=512, stride=512, batch_size=4,
                               pad_id=model.tokenizer.pad_token_id, progress=False)
        harness.append(out["tokens_scored"] / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        bare.append(bare_loop(model.model, ids, windows, 4) / (time.perf_counter() - t0))
    h, b = statistics.median(harness), statistics.median(bare)
    return {"tokens": len(ids), "harness_tok_s": round(h, 1), "bare_tok_s": round(b, 1), "ratio": round(h / b, 3)}


def _theoretical_bytes(base: Any, *, bits: int) -> int:
    """Bytes if every quantized Linear weight took exactly ``bits`` and everything else stayed as stored."""
    quantized = sum(m.weight.numel() for name, m in base.model.named_modules()
                    if isinstance(m, torch.nn.Linear) and not name.endswith("lm_head"))
    total = int(base.model.get_memory_footprint())
    return int(total - quantized * base.model.dtype.itemsize + quantized * bits / 8)


def _row(*, seconds: float, bits: int, stored: int, base: Any) -> dict[str, Any]:
    theory = _theoretical_bytes(base, bits=bits)
    return {"seconds": round(seconds, 1), "bits": bits, "weight_bytes": stored, "theoretical_bytes": theory,
            "bytes_ratio": round(stored / theory, 3)}


def quantize_rows(base: Any, pilot_result: dict[str, Any], *, sizes: Sizes, out: Path
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each method's quantization time and weight bytes vs theory: the pilot's four, plus the RTN references made here.

    The pilot already quantized bnb-int8, NF4, GPTQ and AWQ at the stated calibration (timed per
    stage) and scored them on the full sets; only the RTN references are quantized (and returned) here.
    """
    from kit.quant.quantize import quantize

    rows, models = {}, {}
    for c in pilot_result["candidates"]:
        rows[c["method"]] = _row(seconds=c["seconds"]["quantize"], bits=int(c["config"]["bits"]),
                                 stored=int(c["config"]["weight_bytes"]), base=base)
    for name, symmetric in _rtn_references():
        t0 = time.perf_counter()
        q = quantize(model=DEFAULT_MODEL, out=out / name, device="cpu", progress=False,
                     spec=QuantSpec(method="rtn", calibration=_calibration(sizes), scheme=(("symmetric", symmetric),)))
        rows[name] = _row(seconds=time.perf_counter() - t0, bits=int(q.config["bits"]),
                          stored=int(q.config.get("weight_bytes") or q.model.weight_bytes()), base=base)
        models[name] = q.model
    rows = {m: rows[m] for m in (*[m for m in METHODS if m in rows], *sorted(rows.keys() - set(METHODS)))}
    for m, row in rows.items():
        stage("quantize", f"{m}: {row['seconds']} s, {row['weight_bytes'] / 2**20:.1f} MiB = "
              f"{row['bytes_ratio']}× the {row['bits']}-bit theory")
    return rows, models


def _rtn_references() -> list[tuple[str, bool]]:
    """RTN at the sanctioned format, plus RTN at the other symmetry when GPTQ or AWQ is sanctioned with it."""
    refs = [("rtn", SCHEMES["rtn"].symmetric)]
    other = {SCHEMES[m].symmetric for m in ("gptq", "awq")} - {SCHEMES["rtn"].symmetric}
    return refs + [(f"rtn-{'sym' if s else 'asym'}", s) for s in sorted(other)]


def _reference(method: str) -> str:
    """The RTN row a method's recovery is measured against: the same symmetry."""
    symmetric = SCHEMES[method].symmetric if method in SCHEMES else SCHEMES["rtn"].symmetric
    return dict((s, n) for n, s in _rtn_references())[symmetric]


def _calibration(sizes: Sizes) -> CalibrationSpec:
    return CalibrationSpec(samples=sizes.samples, seq_len=sizes.seq_len)


def recovery(base: Any, rtn_models: dict[str, Any], pilot_result: dict[str, Any], *, sizes: Sizes) -> dict[str, Any]:
    """Perplexity of each method on stdlib-docs and the share of RTN's loss it recovers (RTN at the same format).

    The pilot's methods and the baseline were scored on stdlib-docs by the pilot itself, under the
    same protocol; only the RTN references are evaluated here.
    """
    def text(records: list[dict[str, Any]]) -> dict[str, Any]:
        return next(r for r in records if r["eval_set"]["name"] == "stdlib-docs")

    protocol = Protocol(max_tokens=sizes.pilot_tokens)
    base_rec = text(pilot_result["baseline"]["records"])
    ppl = {"baseline": base_rec["accuracy"]["perplexity"]}
    ppl |= {c["method"]: text(c["records"])["accuracy"]["perplexity"] for c in pilot_result["candidates"]}
    for name, model in rtn_models.items():
        ppl[name] = evaluate(model=model, eval_set="stdlib-docs", protocol=protocol, measure_speed=False,
                             progress=False)["accuracy"]["perplexity"]
    out = {"tokens": base_rec["accuracy"]["tokens_scored"], "baseline_ppl": round(ppl["baseline"], 4), "methods": {}}
    for m in [k for k in ppl if k != "baseline"]:
        ref = m if m.startswith("rtn") else _reference(m)
        loss = ppl[ref] - ppl["baseline"]
        out["methods"][m] = {"ppl": round(ppl[m], 4), "reference": ref,
                             "recovery": round((ppl[ref] - ppl[m]) / loss, 3) if loss > 0 else None}
        stage("recovery", f"{m}: ppl {ppl[m]:.3f}, recovers {out['methods'][m]['recovery']} of {ref}'s loss")
    return out


def rerun(model: Any, *, sizes: Sizes) -> dict[str, Any]:
    """Evaluate the same model twice (text + multiple choice): are the accuracies bit-identical?"""
    protocol = Protocol(max_tokens=sizes.rerun_tokens, limit=sizes.rerun_limit)
    runs = [[evaluate(model=model, eval_set=s, protocol=protocol, measure_speed=False, progress=False)["accuracy"]
             for s in ("stdlib-docs", "everyday-mc")] for _ in range(2)]
    values = [[a.get("perplexity", a.get("accuracy")) for a in run] for run in runs]
    return {"identical": runs[0] == runs[1], "values": values}


def latency_cv(model: Any, *, sizes: Sizes) -> dict[str, Any]:
    """Coefficient of variation of the harness's decode-latency figure over independent measurements.

    Each measurement is what an evaluation record carries: the default protocol's prompt, warm-up,
    repeats and new tokens, reported as the mean per-token decode time.
    """
    p = Protocol()
    ids = tokens_for(load_set("stdlib-docs"), model.tokenizer, max_tokens=p.latency_prompt_tokens)
    means = [measure_latency(model.model, ids, new_tokens=p.latency_new_tokens, warmup=p.warmup,
                             repeats=p.latency_repeats)["latency"]["decode_ms_mean"]
             for _ in range(sizes.latency_repeats)]
    mean = statistics.fmean(means)
    return {"repeats": len(means), "per_measurement": {"warmup": p.warmup, "repeats": p.latency_repeats,
                                                       "new_tokens": p.latency_new_tokens, "prompt_tokens": len(ids)},
            "decode_ms_mean": round(mean, 3), "cv": round(statistics.pstdev(means) / mean, 4),
            "decode_ms": [round(m, 2) for m in means]}


def debug_speed(artifact: Path, *, tokens: tuple[int, ...] = (256, 1024)) -> dict[str, Any]:
    """``kit debug`` on the pilot's real GPTQ artifact, each size in a fresh process (its own peak RSS)."""
    rows = {}
    with tempfile.TemporaryDirectory(prefix="kit-debug-speed-") as tmp:
        for n in tokens:
            target = Path(tmp) / f"{n}.json"
            subprocess.run([sys.executable, str(Path(__file__).with_name("debug_speed.py")), "--artifact", str(artifact),
                            "--tokens", str(n), "--json", str(target)], check=True, capture_output=True, text=True)
            rows[str(n)] = json.loads(target.read_text())
            stage("debug", f"kit debug on {n} tokens: {rows[str(n)]['total_s']} s, peak RSS "
                  f"{rows[str(n)]['peak_rss_mib']} MiB (weights {rows[str(n)]['weights_mib']} MiB)")
    return rows


def pilot(*, sizes: Sizes, out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The full pilot (all sanctioned methods) with a cold baseline cache: wall time vs its floor."""
    from kit.eval.cache import RecordCache
    from kit.govern.pilot import run_pilot

    cal = _calibration(sizes)
    result = run_pilot(model=DEFAULT_MODEL, use_case="chat-assistant", reason="benchmark: every sanctioned method",
                       candidates=[QuantSpec(method=m, calibration=cal) for m in PILOT_METHODS],
                       protocol=Protocol(max_tokens=sizes.pilot_tokens, limit=sizes.pilot_limit),
                       out_dir=out / "pilot", registry=str(out / "registry.sqlite"), device="cpu", progress=False,
                       cache=RecordCache(out / "records"))
    t = result["timings"]
    return {"methods": list(PILOT_METHODS), "wall_s": t["wall_s"], "floor_s": t["floor"]["floor_s"],
            "wall_over_floor": t["wall_over_floor"], "stages": {k: v for k, v in t.items() if k != "floor"},
            "floor": t["floor"]}, result


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark in one process and write RESULTS.md + results.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few minutes")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="results folder (default benchmarks/)")
    ap.add_argument("--size", action="append", default=[], metavar="NAME=N",
                    help="override one size (repeatable; 'all' for a whole set): "
                         + ", ".join(f.name for f in dataclasses.fields(Sizes)))
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    try:
        sizes = dataclasses.replace(sizes, **{k: None if v == "all" else int(v)
                                               for k, v in (x.split("=", 1) for x in args.size)})
    except (TypeError, ValueError):
        print(f"error: --size takes NAME=N with NAME one of {[f.name for f in dataclasses.fields(Sizes)]}; "
              f"got {args.size}", file=sys.stderr)
        return 2
    out = Path(args.out)
    started = time.perf_counter()
    facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/run.py")
    stage("bench", f"{'quick' if args.quick else 'full'} run, load {facts['load_start']}, {torch.get_num_threads()} "
          f"threads, sizes {dataclasses.asdict(sizes)}")
    base = load_model(DEFAULT_MODEL, device="cpu")
    res: dict[str, Any] = {"mode": "quick" if args.quick else "full", "sizes": dataclasses.asdict(sizes)}
    res["throughput"] = throughput(base, sizes=sizes)
    stage("throughput", f"harness/bare {res['throughput']['ratio']}")
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        res["pilot"], pilot_result = pilot(sizes=sizes, out=Path(tmp))
        stage("pilot", f"wall {res['pilot']['wall_s']} s, floor {res['pilot']['floor_s']} s, "
              f"{res['pilot']['wall_over_floor']}×")
        if not args.quick:
            atomic_write_json(out / "pilot.json", pilot_result)  # the docs' pilot table: scripts/pilot_table.py
        made = {c["method"]: c["path"] for c in pilot_result["candidates"] if c["method"] in ("gptq", "bnb-int8")}
        engines_facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/run.py")
        res["engines"] = finish_facts(engines_facts) | engine_bench(out=Path(tmp) / "engines", quick=args.quick,
                                                                    artifacts=made) | {"mode": res["mode"]}
        stage("engines", f"targets met: {res['engines']['met']}")
        res["debug"] = debug_speed(Path(next(c["path"] for c in pilot_result["candidates"] if c["method"] == "gptq")))
        res["quantize"], models = quantize_rows(base, pilot_result, sizes=sizes, out=Path(tmp))
        res["awq_over_gptq"] = round(res["quantize"]["awq"]["seconds"] / res["quantize"]["gptq"]["seconds"], 2)
        stage("quantize", f"AWQ/GPTQ time {res['awq_over_gptq']}× at {sizes.samples} × {sizes.seq_len}")
        res["recovery"] = recovery(base, models, pilot_result, sizes=sizes)
        res["rerun"] = rerun(models["rtn"], sizes=sizes)
        stage("rerun", f"identical {res['rerun']['identical']} {res['rerun']['values']}")
        del models
        res["latency"] = latency_cv(base, sizes=sizes)
        stage("latency", f"decode CV {res['latency']['cv']} over {res['latency']['repeats']} harness measurements")
    res = finish_facts(facts) | res | {"seconds": round(time.perf_counter() - started, 1)}
    write_bench(out, res)
    stage("bench", f"{res['seconds']} s; wrote {out / 'RESULTS.md'} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
