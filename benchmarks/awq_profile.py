"""Where AWQ's time goes on CPU: one AWQ (and one GPTQ, for scale) quantization under cProfile, grouped by phase.

    python benchmarks/awq_profile.py                      # the kit's default calibration (64 × 256)
    python benchmarks/awq_profile.py --samples 16 --n-grid 10

Prints each run's wall time, the AWQ/GPTQ ratio, and for AWQ the share of time in each phase:
the calibration forward passes (llm-compressor's sequential pipeline), the grid search over
scales (``_compute_best_scale``: one forward of each mapped parent module per grid point), the
smoothing itself, and the final round-to-nearest; then the ten most expensive functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from kit.console import stage
from kit.models import DEFAULT_MODEL
from kit.quant.quantize import quantize
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

#: Phases: a name and the functions (file:function substrings) whose cumulative time is that phase.
PHASES = {
    "whole calibration pipeline": ("sequential/pipeline.py:__call__",),
    "  AWQ smoothing (all mappings)": ("_apply_smoothing",),
    "    grid search (best scales)": ("_compute_best_scale",),
    "    parent-module forwards": ("_run_samples",),
    "  GPTQ rounding (Hessian solves)": ("quantize_weight",),
}


def _phase_seconds(stats: pstats.Stats) -> dict[str, float]:
    out = {}
    for phase, needles in PHASES.items():
        cum = [v[3] for (file, _, func), v in stats.stats.items()  # type: ignore[attr-defined]
               if any(n in f"{file}:{func}" or n == func for n in needles)]
        out[phase] = max(cum, default=0.0)  # cumulative time of the outermost matching frame
    return out


def _run(method: str, cal: CalibrationSpec, scheme: tuple, folder: Path) -> tuple[float, pstats.Stats]:
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    quantize(model=DEFAULT_MODEL, out=folder / method, device="cpu", progress=False,
             spec=QuantSpec(method=method, calibration=cal, scheme=scheme))
    prof.disable()
    return time.perf_counter() - t0, pstats.Stats(prof)


def main(argv: list[str] | None = None) -> int:
    """Profile one AWQ and one GPTQ quantization at the same calibration."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=DEFAULT_CALIBRATION.samples)
    ap.add_argument("--seq-len", type=int, default=DEFAULT_CALIBRATION.seq_len)
    ap.add_argument("--n-grid", type=int, default=None, help="AWQ grid points (default: the sanctioned scheme's)")
    args = ap.parse_args(argv)
    cal = CalibrationSpec(samples=args.samples, seq_len=args.seq_len)
    awq_scheme = (("n_grid", args.n_grid),) if args.n_grid else ()
    with tempfile.TemporaryDirectory(prefix="kit-awq-profile-") as tmp:
        gptq_s, gptq_stats = _run("gptq", cal, (), Path(tmp))
        awq_s, awq_stats = _run("awq", cal, awq_scheme, Path(tmp))
    stage("profile", f"calibration {cal.samples} × {cal.seq_len}: GPTQ {gptq_s:.1f} s, AWQ {awq_s:.1f} s "
          f"(AWQ/GPTQ {awq_s / gptq_s:.2f})")
    for name, seconds, stats in (("awq", awq_s, awq_stats), ("gptq", gptq_s, gptq_stats)):
        for phase, t in _phase_seconds(stats).items():
            if t:
                print(f"  {name}: {phase:<34} {t:7.1f} s  {t / seconds:5.0%}")
    print("AWQ, ten most expensive functions (cumulative):")
    awq_stats.sort_stats("cumulative").print_stats(r"llmcompressor|compressed_tensors|torch/nn/modules", 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
