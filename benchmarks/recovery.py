"""How much of round-to-nearest's perplexity loss do GPTQ and AWQ recover? One run, one table.

    python benchmarks/recovery.py                       # smollm2-135m, w4g64, 32 × 128 calibration tokens
    python benchmarks/recovery.py --samples 128 --max-tokens 8192 --json runs/recovery.json

recovery = (PPL_rtn − PPL_method) / (PPL_rtn − PPL_baseline): 0 % is no better than RTN,
100 % is back to the baseline. Anchor: GPTQ paper, Table 3, OPT-125M 4-bit on WikiText-2
(FP16 27.65, RTN 37.28, GPTQ 31.12) → about 64 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from kit.console import progress_default, stage
from kit.eval.harness import Protocol, evaluate
from kit.eval.tables import format_table
from kit.io import atomic_write_json
from kit.models import load_model
from kit.quant.quantize import quantize

PAPER_TARGET = 0.64  # GPTQ paper, OPT-125M, 4-bit RTN → GPTQ
METHODS = ("rtn", "gptq", "awq")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m", help="fp32 baseline (alias or folder)")
    p.add_argument("--eval", default="stdlib-docs", help="text set for perplexity (default stdlib-docs)")
    p.add_argument("--max-tokens", type=int, default=4096, help="score the first N tokens (default 4096)")
    p.add_argument("--context-length", type=int, default=512, help="tokens per perplexity window (default 512)")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--group-size", type=int, default=64)
    p.add_argument("--calibration", default="stdlib-docs-calib", help="calibration set (default stdlib-docs-calib)")
    p.add_argument("--samples", type=int, default=32,
                   help="calibration chunks (default 32; AWQ time grows with samples × seq-len)")
    p.add_argument("--seq-len", type=int, default=128, help="tokens per chunk (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice); 1 is much faster when other processes share the cores")
    p.add_argument("--out-dir", default=None, help="keep the artifacts here (default: a temp folder)")
    p.add_argument("--json", default=None, help="write the results here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    progress = progress_default()
    protocol = Protocol(max_tokens=args.max_tokens, context_length=args.context_length)
    scratch = None if args.out_dir else tempfile.TemporaryDirectory(prefix="kit-recovery-")
    root = Path(args.out_dir or scratch.name)
    started = time.perf_counter()

    def ppl(model):
        rec = evaluate(model=model, eval_set=args.eval, protocol=protocol, measure_speed=False, progress=progress)
        return rec["accuracy"]["perplexity"], rec["accuracy"]["tokens_scored"]

    base = load_model(args.model, device="cpu")
    results = {"baseline": {"perplexity": ppl(base)[0], "seconds": None}}
    stage("baseline", f"{args.model} {args.eval} ppl {results['baseline']['perplexity']:.3f}")
    del base
    calibration = None
    for method in METHODS:
        q = quantize(model=args.model, method=method, out=root / method, bits=args.bits, group_size=args.group_size,
                     calibration=args.calibration, samples=args.samples, seq_len=args.seq_len, seed=args.seed,
                     device="cpu", overwrite=True, progress=progress)
        value, tokens = ppl(q.model)
        results[method] = {"perplexity": value, "seconds": q.config["quantize_seconds"], "path": str(q.path)}
        calibration = q.config["calibration"] or calibration
        stage("quantize", f"{method} w{args.bits}g{args.group_size} in {q.config['quantize_seconds']:.1f} s: ppl {value:.3f}")
        del q

    b, r = results["baseline"]["perplexity"], results["rtn"]["perplexity"]
    for method in ("gptq", "awq"):
        results[method]["recovery"] = (r - results[method]["perplexity"]) / (r - b) if r != b else None
    rows = [{"method": m, "ppl": round(v["perplexity"], 3), "quantize_s": v["seconds"],
             "recovery": None if v.get("recovery") is None else f"{100 * v['recovery']:.1f}%"}
            for m, v in results.items()]
    print(format_table(rows))
    cal = calibration or {}
    print(f"eval: {args.eval}, first {tokens} scored tokens, context {args.context_length}; "
          f"calibration: {cal.get('name')} {cal.get('samples')} × {cal.get('seq_len')} tokens, seed {cal.get('seed')} "
          f"(sha256 {str(cal.get('sha256'))[:12]}); scheme int{args.bits} symmetric, group {args.group_size}, lm_head kept")
    for method in ("gptq", "awq"):
        rec = results[method]["recovery"]
        verdict = "beats" if rec is not None and rec > PAPER_TARGET else "does not beat"
        print(f"{method}: recovery {100 * rec:.1f}% {verdict} the {100 * PAPER_TARGET:.0f}% anchor (GPTQ paper, OPT-125M)")
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        atomic_write_json(args.json, {"args": vars(args), "calibration": calibration, "results": results,
                                      "target": PAPER_TARGET, "seconds": round(time.perf_counter() - started, 1)})
        print(f"wrote {args.json}")
    if scratch:
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
