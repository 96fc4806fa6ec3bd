"""AutoRound on llm-compressor with its zero points kept: the asymmetric scheme saved as AutoRound tuned it.

llm-compressor 0.14's ``AutoRoundModifier`` copies AutoRound's tuned ``scale`` into each layer's
``weight_scale`` but not its zero point (``zp``): the layer keeps the placeholder zero point
llm-compressor registered before tuning, so an asymmetric artifact is saved with AutoRound's
scales and the wrong zero points. compressed-tensors then re-quantizes AutoRound's weights on a
grid shifted by the difference and clamps the levels that fall outside: the artifact loads and
runs, and is worse than plain rounding (measured: docs/quantization.md). AutoRound also counts
levels unsigned (``zp`` in ``[0, 2^bits − 1]``, ``w = (q − zp)·s``) where compressed-tensors
counts them signed (``[−2^(bits−1), 2^(bits−1) − 1]``), so the zero point is carried over
shifted by ``2^(bits−1)``: the same weights, exactly (auto-round's own llm-compressor export had
the same convention bug, intel/auto-round PR 2273). :func:`zero_point_autoround` builds the
modifier with that one step added after llm-compressor's own.
"""

from __future__ import annotations

from typing import Any

import torch

from kit.errors import KitError

__all__ = ["signed_zero_point", "zero_point_autoround"]

_CLASS: Any = None


def signed_zero_point(zp: torch.Tensor, *, bits: int) -> torch.Tensor:
    """AutoRound's unsigned zero points in compressed-tensors' signed convention (``zp − 2^(bits−1)``), int8.

    Args:
        zp: AutoRound's zero points (whole numbers in ``[0, 2^bits − 1]``).
        bits: weight bits.
    """
    z = zp.detach().float()
    top = 2 ** bits - 1
    if not bool(torch.isfinite(z).all()) or not bool((z == z.round()).all()) or z.min() < 0 or z.max() > top:
        raise KitError(f"AutoRound returned zero points outside the whole numbers 0..{top} "
                       f"(min {float(z.min()):g}, max {float(z.max()):g}); re-run it, or use --method gptq")
    return (z - 2 ** (bits - 1)).to(torch.int8)


def _modifier_class() -> Any:
    from llmcompressor.modifiers.autoround import AutoRoundModifier

    class ZeroPointAutoRoundModifier(AutoRoundModifier):
        """llm-compressor's AutoRoundModifier, with AutoRound's zero points carried into ``weight_zero_point``."""

        def _postprocess_qparams(self, model: torch.nn.Module, llmc_registered_qparams: dict[str, Any]) -> None:
            tuned = {name: module.zp for name, module in model.named_modules()
                     if isinstance(getattr(module, "zp", None), torch.Tensor)}
            super()._postprocess_qparams(model, llmc_registered_qparams)
            for name, module in model.named_modules():
                if name not in tuned:
                    continue
                zp = tuned[name]
                delattr(module, "zp")  # AutoRound's attribute; llm-compressor saves weight_zero_point
                held = getattr(module, "weight_zero_point", None)
                scheme = getattr(module, "quantization_scheme", None)
                weights = getattr(scheme, "weights", None)
                if held is None or weights is None or weights.symmetric:
                    continue  # symmetric: no zero point is stored, AutoRound's is the grid's middle
                signed = signed_zero_point(zp, bits=int(weights.num_bits)).reshape(held.shape).to(held.device)
                module.weight_zero_point.data = signed.to(held.dtype)

    # llm-compressor's sequential pipeline recognises AutoRound by class name (then it does not
    # propagate quantization error between layers during calibration): keep the name.
    ZeroPointAutoRoundModifier.__name__ = ZeroPointAutoRoundModifier.__qualname__ = "AutoRoundModifier"
    return ZeroPointAutoRoundModifier


def zero_point_autoround(**kwargs: Any) -> Any:
    """An llm-compressor AutoRound modifier whose saved zero points are AutoRound's own.

    Args:
        kwargs: AutoRoundModifier fields (config_groups, ignore, iters, lr, batch_size, ...).
    """
    global _CLASS
    if _CLASS is None:
        _CLASS = _modifier_class()
    return _CLASS(**kwargs)


