"""Decode speed and resident memory per method per engine (issue 21): what quantization saves when it is served.

    python benchmarks/engines.py                     # full sizes, merges the "engines" part into benchmarks/
    python benchmarks/engines.py --quick --out /tmp/engines-smoke
    python benchmarks/engines.py --artifact gptq=/path/to/gptq   # reuse an artifact instead of quantizing it

``make bench`` (benchmarks/run.py) runs the same section on the pilot's own GPTQ and bnb-int8
artifacts. Each model is measured in a fresh process (``--measure``), so its RSS after load is
its own; the processes run in interleaved rounds (every model once per round), so drift on a
shared machine hits all rows alike. Decode tokens/s is HF ``generate`` at batch 1, greedy, from
a fixed prompt: (new tokens − 1) / (time for all − time for the first). RSS is read right after
load and again after the decodes: safetensors maps float weights from the file, so a reference
model's pages count only once a forward touched them (and compressed-tensors dequantizes on first
use); the after-decode figure is what serving holds. Ratios are to the fp32
reference and to the served baseline (the faster of fp32 and bf16 in this run). The packed
GPTQ row also carries a torch.profiler table of where decode time goes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import merge_section, run_facts

#: (row name, model key, engine, dtype): the rows, in table order. Keys name the baseline or an artifact.
ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("baseline fp32", "baseline", "reference", "float32"),
    ("baseline bf16", "baseline", "reference", "bfloat16"),
    ("gptq 4-bit", "gptq", "reference", None),
    ("gptq 4-bit", "gptq", "packed", None),
    ("rtn 4-bit", "rtn", "packed", None),
    ("rtn-int8", "rtn-int8", "packed", None),
    ("bnb-int8", "bnb-int8", "reference", None),
)
#: The issue's targets for the packed 4-bit GPTQ artifact and the int8 path.
TARGETS = {"gptq_vs_fp32": 2.0, "gptq_vs_served": 1.3, "gptq_bytes_vs_fp32": 0.4, "int8_vs_fp32": 1.0}
FULL = {"new_tokens": 48, "repeats": 3, "rounds": 2, "prompt_tokens": 64, "samples": None, "seq_len": None}
QUICK = {"new_tokens": 8, "repeats": 1, "rounds": 1, "prompt_tokens": 16, "samples": 4, "seq_len": 64}


def _prompt(tokenizer: Any, n: int) -> list[int]:
    from kit.eval.harness import tokens_for
    from kit.eval.sets import load_set

    return tokens_for(load_set("stdlib-docs"), tokenizer, max_tokens=n)


def _generate_s(model: Any, ids: Any, n: int) -> float:
    import torch

    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    assert out.shape[1] == ids.shape[1] + n
    return time.perf_counter() - t0


def _profile(model: Any, ids: Any, n: int, *, top: int = 10) -> list[dict[str, Any]]:
    """The ops that take the decode's CPU time (torch.profiler, self time, top ``top``)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _generate_s(model, ids, n)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return [{"op": e.key, "calls": e.count, "self_ms": round(e.self_cpu_time_total / 1e3, 2),
             "share": round(e.self_cpu_time_total / total, 3)} for e in events[:top]]


def measure(ref: str, *, engine: str, dtype: str | None, sizes: dict[str, Any], profile_it: bool) -> dict[str, Any]:
    """Load one model in this (fresh) process and measure it: RSS after load, weight bytes, decode tok/s.

    Args:
        ref: alias or artifact folder.
        engine: ``reference`` or ``packed``.
        dtype: the reference engine's float dtype for an unquantized model (None: float32).
        sizes: new_tokens, repeats, prompt_tokens.
        profile_it: add a torch.profiler table of one decode.
    """
    import torch

    from kit.models import load_model

    t0 = time.perf_counter()
    loaded = load_model(ref, device="cpu", dtype=dtype, engine=engine)
    load_s = time.perf_counter() - t0
    rss = loaded.rss_after_load_bytes
    ids = torch.tensor([_prompt(loaded.tokenizer, sizes["prompt_tokens"])])
    n = sizes["new_tokens"]
    _generate_s(loaded.model, ids, n)  # warm-up (and compressed-tensors' decompression on first use)
    rates = []
    for _ in range(sizes["repeats"]):
        first, whole = _generate_s(loaded.model, ids, 1), _generate_s(loaded.model, ids, n)
        rates.append((n - 1) / max(whole - first, 1e-9))
    import psutil

    out = {"engine": loaded.engine_info().to_dict(), "decode_tok_s": rates, "load_s": round(load_s, 2),
           "weight_bytes": loaded.weight_bytes(), "rss_after_load_bytes": rss,
           "rss_after_decode_bytes": int(psutil.Process().memory_info().rss), "threads": torch.get_num_threads()}
    if profile_it:
        out["profile"] = _profile(loaded.model, ids, n)
    return out


def _artifacts(out: Path, given: dict[str, str], sizes: dict[str, Any]) -> dict[str, str]:
    """Every artifact the rows need: the given ones, the rest quantized here (GPTQ at the stated calibration)."""
    from kit.models import DEFAULT_MODEL
    from kit.quant.quantize import quantize
    from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

    cal = CalibrationSpec(samples=sizes["samples"] or DEFAULT_CALIBRATION.samples,
                          seq_len=sizes["seq_len"] or DEFAULT_CALIBRATION.seq_len)
    paths = {"baseline": DEFAULT_MODEL, **given}
    for key in {k for _, k, _, _ in ROWS} - set(paths):
        spec = QuantSpec(method=key, calibration=cal) if key == "gptq" else QuantSpec(method=key)
        paths[key] = str(quantize(model=DEFAULT_MODEL, out=out / key, spec=spec, device="cpu", progress=False).path)
        print(f"[engines] quantized {key} → {paths[key]}", flush=True)
    return paths


def _ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each row's ratios to the fp32 reference and the served baseline; the targets, met or not."""
    fp32, bf16 = rows[0], rows[1]
    served = max((fp32, bf16), key=lambda r: r["tok_s"])
    for r in rows:
        r["vs_fp32"] = round(r["tok_s"] / fp32["tok_s"], 2)
        r["vs_served"] = round(r["tok_s"] / served["tok_s"], 2)
        r["bytes_vs_fp32"] = round(r["weight_bytes"] / fp32["weight_bytes"], 3)
    gptq = next(r for r in rows if r["key"] == "gptq" and r["engine"]["name"] == "packed")
    int8 = next(r for r in rows if r["key"] == "rtn-int8")
    got = {"gptq_vs_fp32": gptq["vs_fp32"], "gptq_vs_served": gptq["vs_served"],
           "gptq_bytes_vs_fp32": gptq["bytes_vs_fp32"], "int8_vs_fp32": int8["vs_fp32"]}
    met = {k: (v <= TARGETS[k] if k.endswith("bytes_vs_fp32") else v >= TARGETS[k]) for k, v in got.items()}
    return {"served_baseline": served["name"], "targets": TARGETS, "achieved": got, "met": met}


def engine_bench(*, out: Path, quick: bool, artifacts: dict[str, str] | None = None) -> dict[str, Any]:
    """Every row of :data:`ROWS`, each in fresh processes over interleaved rounds; ratios and targets.

    Args:
        out: a scratch folder for artifacts made here and the per-process results.
        quick: tiny sizes (a smoke run; the numbers mean nothing).
        artifacts: model key → artifact folder already made (e.g. the pilot's gptq and bnb-int8).
    """
    import torch

    sizes = QUICK if quick else FULL
    out.mkdir(parents=True, exist_ok=True)
    paths = _artifacts(out, artifacts or {}, sizes)
    runs: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(ROWS))}
    for rnd in range(sizes["rounds"]):
        for i, (name, key, engine, dtype) in enumerate(ROWS):
            target = out / f"measure-{i}-{rnd}.json"
            cmd = [sys.executable, __file__, "--measure", paths[key], "--engine", engine, "--json", str(target),
                   "--sizes", json.dumps(sizes)] + (["--dtype", dtype] if dtype else [])
            cmd += ["--profile"] if rnd == 0 and key == "gptq" and engine == "packed" else []
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs[i].append(json.loads(target.read_text()))
            print(f"[engines] round {rnd + 1}: {name} on {engine}: {statistics.median(runs[i][-1]['decode_tok_s']):.1f}"
                  " tok/s", flush=True)
    rows = []
    for i, (name, key, _, _) in enumerate(ROWS):
        first = runs[i][0]
        rates = [x for run in runs[i] for x in run["decode_tok_s"]]
        rows.append({"name": name, "key": key, "engine": first["engine"], "tok_s": round(statistics.median(rates), 2),
                     "tok_s_range": [round(min(rates), 2), round(max(rates), 2)], "samples": len(rates),
                     "weight_bytes": first["weight_bytes"],
                     "rss_after_load_bytes": statistics.median(r["rss_after_load_bytes"] for r in runs[i]),
                     "rss_after_decode_bytes": statistics.median(r["rss_after_decode_bytes"] for r in runs[i]),
                     **({"profile": first["profile"]} if "profile" in first else {})})
    return {"sizes": sizes, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": runs[0][0]["threads"], "rows": rows, **_ratios(rows)}


def main(argv: list[str] | None = None) -> int:
    """Measure one model (``--measure``) or run the whole section and merge it into the results file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="results folder (default benchmarks/)")
    ap.add_argument("--artifact", action="append", default=[], metavar="KEY=PATH",
                    help="reuse an artifact (keys: gptq, rtn, rtn-int8, bnb-int8)")
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="reference", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default=json.dumps(FULL), help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        result = measure(args.measure, engine=args.engine, dtype=args.dtype, sizes=json.loads(args.sizes),
                         profile_it=args.profile)
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
        return 0
    bad = [a for a in args.artifact if "=" not in a or a.split("=", 1)[0] not in {k for _, k, _, _ in ROWS}]
    if bad:
        print(f"error: --artifact takes KEY=PATH with KEY one of gptq, rtn, rtn-int8, bnb-int8; got {bad[0]}",
              file=sys.stderr)
        return 2
    facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/engines.py")
    with tempfile.TemporaryDirectory(prefix="kit-engines-") as tmp:
        section = engine_bench(out=Path(tmp), quick=args.quick, artifacts=dict(a.split("=", 1) for a in args.artifact))
    merge_section(Path(args.out), "engines", facts | section, quick=args.quick)
    print(f"[engines] wrote {Path(args.out) / 'RESULTS.md'}; targets met: {section['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
