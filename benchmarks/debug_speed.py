"""How long does ``kit debug`` take on a real GPTQ artifact of the embedded model, and how much memory does it hold?

    python benchmarks/debug_speed.py                    # GPTQ w4g64, 16 × 128 calibration tokens, 256 tokens compared
    python benchmarks/debug_speed.py --tokens 1024 --artifact runs/gptq

Prints the wall time of each stage (load, diagnose) and the peak resident memory of the
process, with the share of the peak that the two models' weights explain: the instruments keep
running sums plus one chunk of module outputs, so the peak should not grow with --tokens.
Run it twice with different --tokens to see that. Numbers from a shared machine are contended.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--artifact", default=None, help="an existing GPTQ artifact (default: quantize one into runs/bench-gptq)")
    p.add_argument("--samples", type=int, default=16, help="calibration chunks when quantizing (default 16)")
    p.add_argument("--seq-len", type=int, default=128, help="tokens per calibration chunk (default 128)")
    p.add_argument("--tokens", type=int, default=256, help="tokens compared by the instruments (default 256)")
    p.add_argument("--use-case", default="batch-summaries", help="policy use case (default batch-summaries)")
    p.add_argument("--json", default=None, help="also write the figures here (make bench reads them)")
    return p


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    """Quantize (once), then time ``kit debug``'s stages and report the peak RSS."""
    args = _parser().parse_args(argv)
    from kit.debug.diagnose import diagnose
    from kit.debug.regressions import load_candidate
    from kit.io import runs_dir
    from kit.models import DEFAULT_MODEL, load_model
    from kit.quant.quantize import quantize

    path = Path(args.artifact) if args.artifact else runs_dir() / "bench-gptq"
    if not (path / "kit-quantization.json").is_file():
        t = time.perf_counter()
        quantize(model=DEFAULT_MODEL, method="gptq", bits=4, group_size=64, samples=args.samples,
                 seq_len=args.seq_len, out=path, overwrite=path.exists(), progress=False)
        print(f"quantize gptq w4g64 ({args.samples} × {args.seq_len}): {time.perf_counter() - t:.1f} s (not part of kit debug)")
    started = time.perf_counter()
    baseline = load_model(DEFAULT_MODEL, device="cpu")
    candidate = load_candidate(path)
    loaded = time.perf_counter()
    weights_mib = (baseline.weight_bytes() + sum(p.numel() * p.element_size() for p in candidate.model.parameters())) / 2**20
    result = diagnose(baseline=baseline, candidate=candidate, use_case=args.use_case, tokens=args.tokens, top=3)
    done = time.perf_counter()
    print(result.format(rows=5))
    peak = _peak_mib()
    print(f"\nload {loaded - started:.1f} s + diagnose {done - loaded:.1f} s = kit debug {done - started:.1f} s "
          f"on {args.tokens} tokens; peak RSS {peak:.0f} MiB, of which both models' weights {weights_mib:.0f} MiB "
          f"({weights_mib / peak:.0%})")
    if args.json:
        from kit.io import atomic_write_json

        atomic_write_json(args.json, {"tokens": args.tokens, "load_s": round(loaded - started, 1),
                                      "diagnose_s": round(done - loaded, 1), "total_s": round(done - started, 1),
                                      "peak_rss_mib": round(peak), "weights_mib": round(weights_mib)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
