"""What the embedded baseline's Q4_1 origin means for the recovery study: is group 32 favoured by the source grid?

    python benchmarks/source_grid.py      # seconds; merges ``source_grid`` into results.json

The embedded baseline is the GGUF's Q4_1 weights dequantized: every aligned run of 32 weights
of a quantized matrix holds at most 16 distinct values, w = d·q + m with a float scale d and
a float offset m per block. A 4-bit group-32 quantizer aligned to those blocks *could* land on
them exactly, which would flatter every group-32 row of the study. This script measures, with
compressed-tensors' own min-max parameters and fake-quantize (the kit's RTN), the relative
weight error of asymmetric int4 at group 32 aligned to the source blocks, at group 32 shifted
by half a block (misaligned) and at group 64; and how many aligned blocks sit on ≤ 16 levels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import merge_section, run_facts

from kit.console import stage
from kit.embedded import prepare_baseline
from kit.models import DEFAULT_MODEL

SOURCE_BLOCK = 32  # GGUF Q4_1: 32 weights per block, one float scale and one float minimum


def _rtn_error(w: torch.Tensor, *, group: int) -> tuple[float, float]:
    """Squared error of compressed-tensors' asymmetric int4 min-max rounding of ``w`` in groups, and ‖w‖²."""
    from compressed_tensors.quantization import QuantizationArgs
    from compressed_tensors.quantization.lifecycle.forward import fake_quantize
    from compressed_tensors.quantization.utils import calculate_qparams

    args = QuantizationArgs(num_bits=4, type="int", symmetric=False, strategy="group", group_size=group)
    blocks = w.reshape(w.shape[0], -1, group)
    scale, zero = calculate_qparams(blocks.amin(-1), blocks.amax(-1), args)
    q = fake_quantize(w, scale, zero, args)
    return float(((q - w) ** 2).sum()), float((w ** 2).sum())


def measure(weights: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Source-grid facts of the quantized matrices ``weights`` (name → fp32 matrix).

    Args:
        weights: the baseline's Linear weights that the study quantizes.
    """
    err = {"g32_aligned": 0.0, "g32_misaligned": 0.0, "g64": 0.0}
    norm, blocks, on_grid = 0.0, 0, 0
    for w in weights.values():
        w = w.float()
        b = w.reshape(-1, SOURCE_BLOCK)
        levels = torch.sort(b, dim=1).values
        distinct = 1 + (levels[:, 1:] != levels[:, :-1]).sum(1)
        blocks += b.shape[0]
        on_grid += int((distinct <= 16).sum())
        shifted = torch.roll(w, SOURCE_BLOCK // 2, dims=1)  # every group straddles two source blocks
        for key, (m, g) in {"g32_aligned": (w, 32), "g32_misaligned": (shifted, 32), "g64": (w, 64)}.items():
            e, n = _rtn_error(m, group=g)
            err[key] += e
        norm += float((w ** 2).sum())
    rel = {k: v / norm for k, v in err.items()}
    return {"matrices": len(weights), "source_blocks": blocks, "blocks_on_16_levels": on_grid,
            "relative_mse": {k: float(f"{v:.4g}") for k, v in rel.items()},
            "aligned_over_misaligned": round(rel["g32_aligned"] / rel["g32_misaligned"], 3),
            "g64_over_g32": round(rel["g64"] / rel["g32_aligned"], 3)}


def main(argv: list[str] | None = None) -> int:
    """Measure and merge the ``source_grid`` section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="results folder (default benchmarks/)")
    args = ap.parse_args(argv)
    from safetensors import safe_open

    facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/source_grid.py")
    folder = prepare_baseline(DEFAULT_MODEL)
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        keys = f.keys()  # a safetensors handle is not iterable
        names = [k for k in keys if k.endswith("proj.weight")]  # the Linear layers every method quantizes
        section = facts | measure({k: f.get_tensor(k) for k in names})
    merge_section(Path(args.out), "source_grid", section, quick=False)
    stage("source-grid", f"{section['blocks_on_16_levels']}/{section['source_blocks']} blocks on ≤16 levels; "
          f"int4 g32 aligned/misaligned error {section['aligned_over_misaligned']}, g64/g32 {section['g64_over_g32']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
