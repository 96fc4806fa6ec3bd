"""benchmarks/source_grid.py counts source-grid blocks and compares int4 rounding aligned and misaligned to them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def _module():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("source_grid", ROOT / "benchmarks" / "source_grid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _q4_1(rows: int, cols: int, *, zero_in_grid: bool) -> torch.Tensor:
    """A matrix on a Q4_1-style grid: per 32-block w = d·q + m, q in 0..15 (both ends present)."""
    g = torch.Generator().manual_seed(0)
    q = torch.randint(0, 16, (rows, cols // 32, 32), generator=g).float()
    q[..., 0], q[..., 1] = 0, 15
    d = torch.rand(rows, cols // 32, 1, generator=g) * 0.01 + 0.001
    m = -7 * d if zero_in_grid else -(7.4 + torch.rand(rows, cols // 32, 1, generator=g) * 0.2) * d
    return (q * d + m).reshape(rows, cols)


def test_a_grid_with_an_integer_offset_is_reproduced_only_when_aligned():
    mod = _module()
    facts = mod.measure({"w": _q4_1(32, 256, zero_in_grid=True)})
    assert facts["blocks_on_16_levels"] == facts["source_blocks"] == 32 * 256 // 32
    rel = facts["relative_mse"]
    assert rel["g32_aligned"] < 1e-9 < rel["g32_misaligned"]  # integer zero point: the aligned groups are exact


def test_a_float_offset_is_not_representable_so_alignment_buys_nothing():
    mod = _module()
    facts = mod.measure({"w": _q4_1(32, 256, zero_in_grid=False)})
    assert facts["relative_mse"]["g32_aligned"] > 1e-5  # the rounded zero point shifts the grid
    noise = torch.randn(32, 256, generator=torch.Generator().manual_seed(1))
    off = mod.measure({"w": noise})
    assert off["blocks_on_16_levels"] == 0  # 32 distinct random values per block
