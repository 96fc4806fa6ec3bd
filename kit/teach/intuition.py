"""What quantization does inside one layer: rounding, group size, outlier channels, GPTQ's calibrated rounding.

Small, honest re-implementations in torch, for teaching on the real model's weights and
activations; the kit quantizes models with bitsandbytes and llm-compressor (``kit.quant``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch

from kit.errors import KitError

__all__ = ["LLM_INT8_THRESHOLD", "calibration_effect", "fake_quantize", "gptq_quantize", "group_size_table",
           "int8_matmul_error", "layer_inputs", "layer_weight", "outlier_channels", "relative_error", "text_chunks"]

LLM_INT8_THRESHOLD = 6.0  # bitsandbytes' default: input features whose |value| exceeds it stay in 16 bits


def layer_weight(*, model: Any, name: str) -> torch.Tensor:
    """One linear layer's weight (out features × in features) as an fp32 copy.

    Args:
        model: a transformers model (``LoadedModel.model``).
        name: the module's name, e.g. ``model.layers.12.self_attn.q_proj``.
    """
    modules = dict(model.named_modules())
    if name not in modules or not hasattr(modules[name], "weight"):
        linear = [n for n, m in modules.items() if isinstance(m, torch.nn.Linear)]
        raise KitError(f"no linear layer named {name!r}; pick one of e.g. {linear[:3]} ({len(linear)} in all)")
    return modules[name].weight.detach().float().cpu().clone()


def _check_groups(width: int, group_size: int | None) -> int:
    size = width if group_size in (None, 0, -1) else int(group_size)
    if size < 1 or width % size:
        raise KitError(f"group size {group_size} does not divide the layer's width {width}; "
                       f"pick a divisor such as {[g for g in (32, 64, 96, 192) if width % g == 0]}")
    return size


def _scales(weight: torch.Tensor, *, bits: int, group_size: int | None) -> tuple[torch.Tensor, int]:
    size = _check_groups(weight.shape[1], group_size)
    qmax = 2 ** (bits - 1) - 1
    absmax = weight.reshape(weight.shape[0], -1, size).abs().amax(-1).clamp_min(1e-12)
    return (absmax / qmax).repeat_interleave(size, dim=1), qmax


def fake_quantize(*, weight: torch.Tensor, bits: int, group_size: int | None = None) -> torch.Tensor:
    """Round to nearest on a symmetric grid with one absmax scale per group; return the dequantized weight.

    Args:
        weight: out × in matrix.
        bits: bits per weight (8 → 255 levels, 4 → 15 levels).
        group_size: input columns sharing a scale (None: one scale per output row, as LLM.int8).
    """
    scale, qmax = _scales(weight, bits=bits, group_size=group_size)
    return (weight / scale).round().clamp(-qmax, qmax) * scale


def relative_error(*, reference: torch.Tensor, approx: torch.Tensor) -> float:
    """``‖approx − reference‖ / ‖reference‖`` (Frobenius norm).

    Args:
        reference: the exact tensor.
        approx: its approximation.
    """
    return float((approx - reference).norm() / reference.norm())


def group_size_table(*, weight: torch.Tensor, bits: int, group_sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Rounding error and scale overhead per group size; sizes that do not divide the width are marked, not used.

    Args:
        weight: out × in matrix.
        bits: bits per weight.
        group_sizes: candidates (the width itself means one scale per row).
    """
    rows = []
    for g in group_sizes:
        divides = weight.shape[1] % g == 0
        err = relative_error(reference=weight, approx=fake_quantize(weight=weight, bits=bits, group_size=g)) if divides else None
        rows.append({"group_size": g, "divides_width": divides, "groups_per_row": weight.shape[1] / g,
                     "relative_error": None if err is None else round(err, 4),
                     "bits_per_weight": round(bits + 16 / g, 3)})  # one fp16 scale per group
    return rows


def text_chunks(*, tokenizer: Any, set_name: str, tokens: int, chunk: int = 256) -> list[list[int]]:
    """The first ``tokens`` tokens of a bundled text set, in chunks of ``chunk`` (records joined by blank lines).

    Args:
        tokenizer: the model's tokenizer.
        set_name: a text evaluation set, e.g. ``stdlib-docs``.
        tokens: how many tokens in all (a multiple of ``chunk`` keeps the chunks equal, so they run as one batch).
        chunk: tokens per chunk.
    """
    from kit.eval.sets import load_set

    ids = tokenizer("\n\n".join(load_set(set_name).texts()), add_special_tokens=False).input_ids[:tokens]
    if len(ids) < chunk:
        raise KitError(f"set {set_name!r} has only {len(ids)} tokens; lower the chunk size below {chunk}")
    return [ids[i:i + chunk] for i in range(0, len(ids) - chunk + 1, chunk)]


class _Reached(Exception):
    """Raised by the capture hook once the layer's input is recorded."""


def layer_inputs(*, loaded: Any, name: str, token_ids: Sequence[Sequence[int]]) -> torch.Tensor:
    """The inputs a linear layer sees while the model reads ``token_ids`` (tokens × in features, fp32).

    Args:
        loaded: a ``kit.models.LoadedModel``.
        name: the linear layer's module name.
        token_ids: sequences of token ids (e.g. calibration chunks).
    """
    layer_weight(model=loaded.model, name=name)  # validates the name
    module = dict(loaded.model.named_modules())[name]
    seen: list[torch.Tensor] = []

    def catch(_module: Any, args: tuple[Any, ...]) -> None:
        seen.append(args[0].detach().float().reshape(-1, args[0].shape[-1]).cpu())
        raise _Reached  # the layers after this one are not needed

    lengths = {len(ids) for ids in token_ids}
    batches = [list(map(list, token_ids))] if len(lengths) == 1 else [[list(ids)] for ids in token_ids]
    handle = module.register_forward_pre_hook(catch)
    try:
        with torch.no_grad():
            for batch in batches:
                with contextlib.suppress(_Reached):  # the hook stops the forward pass once it has what it needs
                    loaded.model(torch.tensor(batch, device=loaded.model.device))
    finally:
        handle.remove()
    return torch.cat(seen)


def outlier_channels(*, inputs: torch.Tensor, threshold: float = LLM_INT8_THRESHOLD) -> dict[str, Any]:
    """Input channels whose magnitude exceeds LLM.int8's threshold on some token.

    Args:
        inputs: tokens × in features activations.
        threshold: bitsandbytes' outlier threshold.
    """
    peak = inputs.abs().amax(0)
    idx = torch.nonzero(peak > threshold).flatten()
    tokens_hit = (inputs[:, idx].abs() > threshold).any(1) if len(idx) else torch.zeros(len(inputs), dtype=torch.bool)
    return {"channels": inputs.shape[1], "tokens": inputs.shape[0], "threshold": threshold,
            "outliers": idx.tolist(), "share_of_channels": len(idx) / inputs.shape[1],
            "share_of_tokens_hit": float(tokens_hit.float().mean()),
            "peak": peak.tolist(), "median_peak": float(peak.median()), "max_peak": float(peak.max())}


def int8_matmul_error(*, inputs: torch.Tensor, weight: torch.Tensor, outliers: Sequence[int]) -> dict[str, float]:
    """Relative error of ``inputs @ weight.T`` in int8 (per-token and per-row absmax), with and without outlier columns in fp.

    Args:
        inputs: tokens × in features.
        weight: out × in matrix.
        outliers: input channels LLM.int8 keeps in high precision.
    """
    exact = inputs @ weight.T

    def int8(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return fake_quantize(weight=x, bits=8) @ fake_quantize(weight=w, bits=8).T

    keep = torch.zeros(inputs.shape[1], dtype=torch.bool)
    keep[list(outliers)] = True
    mixed = int8(inputs[:, ~keep], weight[:, ~keep]) + inputs[:, keep] @ weight[:, keep].T
    return {"all_int8": relative_error(reference=exact, approx=int8(inputs, weight)),
            "outliers_in_fp": relative_error(reference=exact, approx=mixed)}


def gptq_quantize(*, weight: torch.Tensor, inputs: torch.Tensor, bits: int, group_size: int | None,
                  damp: float = 0.01) -> torch.Tensor:
    """GPTQ (Frantar et al. 2022) on one layer: round column by column, pushing each error onto later columns.

    Scales are fixed from the original weights (static groups), so RTN and GPTQ use the same grid.

    Args:
        weight: out × in matrix.
        inputs: tokens × in calibration activations of the layer.
        bits: bits per weight.
        group_size: columns per scale (None: per row).
        damp: dampening, as a fraction of the Hessian's mean diagonal.
    """
    scale, qmax = _scales(weight, bits=bits, group_size=group_size)
    w = weight.double().clone()
    h = 2 * inputs.double().T @ inputs.double() / len(inputs)
    dead = torch.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += damp * torch.diag(h).mean() * torch.eye(len(h), dtype=h.dtype)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    q = torch.zeros_like(w)
    s = scale.double()
    for j in range(w.shape[1]):
        q[:, j] = (w[:, j] / s[:, j]).round().clamp(-qmax, qmax) * s[:, j]
        err = (w[:, j] - q[:, j]) / hinv[j, j]
        w[:, j + 1:] -= err.unsqueeze(1) * hinv[j, j + 1:].unsqueeze(0)
    return q.float()


def calibration_effect(*, weight: torch.Tensor, calib_inputs: torch.Tensor, eval_inputs: torch.Tensor, bits: int,
                       group_size: int | None, other_calib_inputs: torch.Tensor | None = None) -> dict[str, Any]:
    """RTN against GPTQ on one layer: per-column weight error, output error on calibration and held-out text.

    Args:
        weight: out × in matrix.
        calib_inputs: the layer's inputs on calibration text (GPTQ sees these).
        eval_inputs: its inputs on held-out evaluation text (neither method sees these).
        bits: bits per weight.
        group_size: columns per scale.
        other_calib_inputs: inputs from another domain's calibration set, for a third column (optional).
    """
    rtn = fake_quantize(weight=weight, bits=bits, group_size=group_size)
    gptq = gptq_quantize(weight=weight, inputs=calib_inputs, bits=bits, group_size=group_size)
    variants = {"rtn": rtn, "gptq": gptq}
    if other_calib_inputs is not None:
        variants["gptq_other_domain"] = gptq_quantize(weight=weight, inputs=other_calib_inputs, bits=bits,
                                                      group_size=group_size)

    def out_err(x: torch.Tensor, w: torch.Tensor) -> float:
        return relative_error(reference=x @ weight.T, approx=x @ w.T)

    rows = [{"method": k, "weight_error": round(relative_error(reference=weight, approx=w), 4),
             "output_error_calibration": round(out_err(calib_inputs, w), 4),
             "output_error_held_out": round(out_err(eval_inputs, w), 4)} for k, w in variants.items()]
    scale, _ = _scales(weight, bits=bits, group_size=group_size)
    return {"rows": rows,
            "column_error": {k: (w - weight).norm(dim=0).tolist() for k, w in variants.items()},
            "input_energy": eval_inputs.pow(2).mean(0).tolist(),
            "share_not_nearest": float(((gptq / scale).round() != (rtn / scale).round()).float().mean())}
