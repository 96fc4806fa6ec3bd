"""AWQ's second search: per output row and group, the clipping ratio that minimises the layer's output error.

The AWQ paper's reference code (llm-awq ``auto_clip_block``, AutoAWQ ``apply_clip``) runs,
after the scale search of each block, a weight-clipping search on every Linear of the block
but the query and key projections: for each output row and group of input weights it tries
clamping the weights to ``±ratio × max|w|`` for ratios 1, 0.95, …, 0.55 (``steps`` = 20,
``max_shrink`` = 0.5) and keeps the ratio whose quantized group gives the smallest mean
squared error of that group's share of the layer's output, on a few hundred calibration
tokens (512 there). llm-compressor 0.14's AWQModifier runs only the scale search;
:func:`best_clip` is the clipping search, and :func:`capture_inputs` gathers the tokens it
scores from the parent modules llm-compressor's AWQ already cached (see
:mod:`kit.quant.methods.awq_search`). The quantizer is compressed-tensors' own
(``calculate_qparams`` + ``fake_quantize``), so the search scores exactly the rounding the
saved artifact uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

__all__ = ["CLIP_GRID", "ClipGrid", "best_clip", "capture_inputs", "clip_weight", "group_output_error"]


@dataclasses.dataclass(frozen=True)
class ClipGrid:
    """The clipping search's settings (the paper's defaults); logged as they are."""

    steps: int = 20  # ratio step is 1/steps
    max_shrink: float = 0.5  # the smallest ratio tried is above 1 - max_shrink
    tokens: int = 512  # calibration tokens scored per layer (evenly spread over the scored batches)
    skip: tuple[str, ...] = ("q_proj", "k_proj")  # their error shows in attention scores, not their output

    @property
    def ratios(self) -> list[float]:
        """The clipping ratios tried, largest (no clipping) first."""
        return [1 - i / self.steps for i in range(round(self.max_shrink * self.steps))]

    def record(self) -> dict[str, Any]:
        """The config-log entry: settings and the ratios they give."""
        return {**dataclasses.asdict(self), "skip": list(self.skip), "ratios": [round(r, 4) for r in self.ratios]}


#: The grid the kit runs (AutoAWQ's defaults: 20 steps, shrink up to 0.5, 512 tokens, q/k skipped).
CLIP_GRID = ClipGrid()


def _fake_quantize(weight: Any, *, args: Any, groups: int) -> Any:
    """Quantize then dequantize ``weight`` ([..., rows, cols]) per row and group with min-max scales (compressed-tensors)."""
    from compressed_tensors.quantization.lifecycle.forward import fake_quantize
    from compressed_tensors.quantization.utils import calculate_qparams

    shape = weight.shape
    flat = weight.reshape(-1, shape[-1])
    grouped = flat.reshape(flat.shape[0], groups, -1)
    scale, zero = calculate_qparams(grouped.amin(-1), grouped.amax(-1), args)
    return fake_quantize(flat, scale, zero, args).reshape(shape)


def _groups(weight: Any, args: Any) -> int:
    """Groups per row: ``cols / group_size`` for the group strategy, 1 for per-channel scales."""
    return weight.shape[-1] // args.group_size if args.group_size else 1


def group_output_error(*, weight: Any, quantized: Any, inputs: Any, groups: int) -> Any:
    """Mean squared error of each (row, group) share of ``x @ w.T``: ``[..., rows, groups]``.

    Args:
        weight: the reference weights ``[rows, cols]``.
        quantized: candidate weights ``[..., rows, cols]``.
        inputs: calibration tokens ``[tokens, cols]``.
        groups: groups per row.
    """
    import torch

    n, cols = inputs.shape
    size = cols // groups
    diff = (quantized - weight).reshape(*quantized.shape[:-1], groups, size)  # [..., rows, g, size]
    x = inputs.reshape(n, groups, size).float()
    if size <= n:  # the same number through each group's Gram matrix, cheaper while groups are narrow
        gram = torch.einsum("ngi,ngj->gij", x, x) / n
        return (torch.einsum("...gi,gij->...gj", diff, gram) * diff).sum(-1)
    return torch.einsum("...gi,ngi->...ng", diff, x).pow(2).mean(-2)


def best_clip(*, weight: Any, inputs: Any, args: Any, grid: ClipGrid = CLIP_GRID) -> Any:
    """Per row and group, the clip value ``ratio × max|w|`` whose quantized group best keeps the output: ``[rows, groups]``.

    Args:
        weight: the layer's weights ``[rows, cols]`` (after AWQ's scaling).
        inputs: calibration tokens entering the layer ``[tokens, cols]`` (after AWQ's scaling).
        args: the layer's compressed-tensors weight ``QuantizationArgs``.
        grid: the ratios tried.
    """
    import torch

    w = weight.detach().float()
    groups = _groups(w, args)
    rows, cols = w.shape
    top = w.reshape(rows, groups, -1).abs().amax(-1)  # [rows, groups]
    ratios = torch.tensor(grid.ratios, dtype=w.dtype, device=w.device)
    limit = (ratios.view(-1, 1, 1) * top).unsqueeze(-1)  # [k, rows, groups, 1]
    clipped = torch.maximum(torch.minimum(w.reshape(rows, groups, -1), limit), -limit).reshape(-1, rows, cols)
    quantized = _fake_quantize(clipped, args=args, groups=groups)
    errors = group_output_error(weight=w, quantized=quantized, inputs=inputs.to(w.device), groups=groups)
    return ratios[errors.argmin(0)] * top


def clip_weight(weight: Any, limit: Any) -> Any:
    """``weight`` clamped to ``±limit`` per row and group.

    Args:
        weight: ``[rows, cols]``.
        limit: ``[rows, groups]`` from :func:`best_clip`.
    """
    rows, cols = weight.shape
    grouped = weight.reshape(rows, limit.shape[1], -1)
    bound = limit.unsqueeze(-1).to(weight.dtype)
    return grouped.clamp(min=-bound, max=bound).reshape(rows, cols)


def capture_inputs(*, parent: Any, calls: Iterable[dict[str, Any]], layers: dict[str, Any], tokens: int,
                   calls_count: int) -> dict[str, Any]:
    """Run ``parent`` on cached calls and keep ``tokens`` evenly spread input rows of each of ``layers``.

    Args:
        parent: a module containing the layers (llm-compressor AWQ's mapping parent).
        calls: its cached keyword arguments, one dict per batch.
        layers: name → Linear inside ``parent``.
        tokens: rows to keep per layer over all calls.
        calls_count: how many calls ``calls`` yields (sets the share each keeps).
    """
    import math

    import torch

    per_call = max(1, math.ceil(tokens / max(1, calls_count)))
    kept: dict[str, list[Any]] = {name: [] for name in layers}

    def hook(name: str) -> Any:
        def keep(_module: Any, args: tuple[Any, ...]) -> None:
            x = args[0].detach().reshape(-1, args[0].shape[-1])
            step = max(1, x.shape[0] // per_call)
            kept[name].append(x[::step][:per_call].float().cpu())
        return keep

    handles = [m.register_forward_pre_hook(hook(name)) for name, m in layers.items()]
    try:
        with torch.no_grad():
            for kwargs in calls:
                parent(**kwargs)
    finally:
        for h in handles:
            h.remove()
    return {name: torch.cat(rows) for name, rows in kept.items() if rows}
