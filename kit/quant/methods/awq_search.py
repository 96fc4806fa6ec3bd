"""AWQ on llm-compressor, driven for a CPU: a grid search on a spread subset of the calibration, and the pin-memory shim.

llm-compressor's AWQ (0.14) runs each mapping's parent module (the attention block, the MLP)
over every cached calibration batch once per grid point. Its time therefore grows with
calibration tokens × grid points, while the statistic that sets the candidate scales, the
per-channel activation mean, is a cheap sum collected on every batch during calibration.
:func:`subset_search_awq` builds an AWQModifier that keeps that mean over all samples and scores each grid
point's reconstruction error on ``search_samples`` of them (whole batches, evenly spread). The
recovery study (benchmarks/study.py) measures what the cap costs; the sanctioned value is in
:data:`kit.quant.methods.llmc.SCHEMES`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

__all__ = ["SHIM", "awq_cpu_pin_memory_shim", "needs_pin_memory_shim", "search_batches", "subset_search_awq"]


def search_batches(*, batches: int, batch_size: int, search_samples: int | None) -> list[int]:
    """The batch indices a grid search scores: all when ``search_samples`` is None or covers them, else evenly spread.

    Args:
        batches: cached calibration batches.
        batch_size: samples per batch.
        search_samples: samples to score (rounded up to whole batches); None for all.
    """
    if search_samples is None or batches == 0:
        return list(range(batches))
    keep = min(batches, max(1, math.ceil(search_samples / max(1, batch_size))))
    return sorted({(i * batches) // keep for i in range(keep)})


def _modifier_class() -> type:
    """Build the subclass on first use, so importing this module imports no llm-compressor."""
    from compressed_tensors.utils import align_modules, update_offload_parameter
    from llmcompressor.core import active_session
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from llmcompressor.modifiers.utils.hooks import HooksMixin
    from llmcompressor.utils.helpers import calibration_forward_context
    from pydantic import PrivateAttr
    from torch import no_grad

    from kit.quant.methods.awq_clip import ClipGrid, best_clip, capture_inputs, clip_weight

    class SubsetSearchAWQModifierImpl(AWQModifier):
        """AWQModifier whose grid search runs the parent modules on ``search_samples`` calibration samples.

        With ``clip`` on, each block's scale search is followed by AWQ's clipping search
        (:mod:`kit.quant.methods.awq_clip`) on the same spread batches, before the
        QuantizationModifier fits the final scales from the clipped weights.
        """

        search_samples: int | None = None
        calibration_batch_size: int = 1
        clip: bool = False
        clip_steps: int = ClipGrid.steps
        clip_max_shrink: float = ClipGrid.max_shrink
        clip_tokens: int = ClipGrid.tokens
        _clip_scales: dict[str, Any] = PrivateAttr(default_factory=dict)
        _clip_stats: list[dict[str, Any]] = PrivateAttr(default_factory=list)

        @property
        def clip_grid(self) -> ClipGrid:
            return ClipGrid(steps=self.clip_steps, max_shrink=self.clip_max_shrink, tokens=self.clip_tokens)

        def _picked(self, cache: Any) -> list[int]:
            return search_batches(batches=len(cache), batch_size=self.calibration_batch_size,
                                  search_samples=self.search_samples)

        @no_grad()
        def _run_samples(self, module: Any) -> list[Any]:
            cache = self._parent_args_cache[module]
            state = active_session().state
            if self.search_samples is None or (state is not None and state.loss_masks):
                # Loss masks are indexed by batch position; a subset would misalign them, so score all.
                return super()._run_samples(module)
            outputs = [module(**cache.fetch(i)) for i in self._picked(cache)]
            return [out[0] if isinstance(out, tuple) else out for out in outputs]

        def _compute_best_scale(self, mapping: Any, fp16_outputs: Any, orig_layer_weights: Any) -> Any:
            scales = super()._compute_best_scale(mapping, fp16_outputs, orig_layer_weights)
            if self.clip:
                self._clip_scales[mapping.smooth_name] = scales
            return scales

        @no_grad()
        def _apply_smoothing(self, model: Any) -> None:
            if not self.clip:
                return super()._apply_smoothing(model)
            mappings = [m for m in self._resolved_mappings if m.smooth_name in self._smooth_activation_stats]
            inputs, layers = self._clip_inputs(model, mappings)  # before the scales: the caches are stale after
            super()._apply_smoothing(model)
            for m in mappings:  # the balance layers now see x / s (AutoAWQ divides its cached inputs the same way)
                scales = self._clip_scales.pop(m.smooth_name, None)
                for name in m.balance_names:
                    if scales is not None and name in inputs:
                        inputs[name] = inputs[name] / scales.to(inputs[name].device).view(1, -1)
            grid = self.clip_grid
            for name, x in inputs.items():
                module = layers[name]
                limit = best_clip(weight=module.weight, inputs=x, args=module.quantization_scheme.weights, grid=grid)
                top = module.weight.detach().abs().reshape(*limit.shape, -1).amax(-1).clamp(min=1e-12)
                update_offload_parameter(module, "weight", clip_weight(module.weight.data, limit))
                self._clip_stats.append({"layer": name, "tokens": int(x.shape[0]),
                                         "mean_ratio": float((limit / top).mean())})
            return None

        def _clip_inputs(self, model: Any, mappings: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            """Inputs (spread tokens) of every quantized Linear under the outermost mapping parents, and the Linears."""
            parents = {id(m.parent): m for m in mappings}.values()
            outer = [m for m in parents
                     if not any(o.parent is not m.parent and any(x is m.parent for x in o.parent.modules())
                                for o in parents)]
            grid, inputs, layers = self.clip_grid, {}, {}
            for m in outer:
                found = {f"{m.parent_name}.{n}" if n else m.parent_name: mod for n, mod in m.parent.named_modules()
                         if getattr(getattr(mod, "quantization_scheme", None), "weights", None) is not None
                         and n.split(".")[-1] not in grid.skip}
                cache = self._parent_args_cache[m.parent]
                picked = self._picked(cache)
                with align_modules([m.parent]), calibration_forward_context(model), HooksMixin.disable_hooks():
                    inputs |= capture_inputs(parent=m.parent, calls=(cache.fetch(i) for i in picked), layers=found,
                                             tokens=grid.tokens, calls_count=len(picked))
                layers |= found
            return inputs, layers

    SubsetSearchAWQModifierImpl.__name__ = "SubsetSearchAWQModifier"
    return SubsetSearchAWQModifierImpl


_CLASS: type | None = None


def subset_search_awq(**kwargs: Any) -> Any:
    """An llm-compressor AWQ modifier whose grid search scores a subset of the calibration batches.

    Args:
        kwargs: AWQModifier fields, plus ``search_samples`` (None: all), ``calibration_batch_size``, and
            ``clip`` (AWQ's clipping search) with ``clip_steps``, ``clip_max_shrink``, ``clip_tokens``.
    """
    global _CLASS
    if _CLASS is None:
        _CLASS = _modifier_class()
    return _CLASS(**kwargs)


SHIM = "awq-cpu-pin-memory: IntermediatesCache.pin_memory made a no-op (no accelerator)"


def needs_pin_memory_shim() -> bool:
    """Whether no accelerator exists (then llm-compressor's AWQ needs :func:`awq_cpu_pin_memory_shim`)."""
    import torch

    return not (torch.cuda.is_available() or torch.accelerator.is_available())


@contextlib.contextmanager
def awq_cpu_pin_memory_shim() -> Iterator[bool]:
    """Make ``IntermediatesCache.pin_memory`` a no-op while no accelerator exists; yield whether applied.

    Upstream (llmcompressor 0.14.0.1): ``AWQModifier._apply_smoothing`` calls
    ``IntermediatesCache.pin_memory(batch_index)`` unconditionally, which calls
    ``torch.Tensor.pin_memory()``; without an accelerator torch raises "Cannot access
    accelerator device when none is available". Pinning only speeds host→device copies, so
    skipping it on a CPU-only machine changes no numbers. Restored on exit; untouched with CUDA.
    """
    from llmcompressor.pipelines.cache import IntermediatesCache

    if not needs_pin_memory_shim():
        yield False
        return
    original = IntermediatesCache.pin_memory
    IntermediatesCache.pin_memory = lambda self, batch_index, input_names=None: None  # type: ignore[method-assign]
    try:
        yield True
    finally:
        IntermediatesCache.pin_memory = original  # type: ignore[method-assign]
