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
    from llmcompressor.core import active_session
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from torch import no_grad

    class SubsetSearchAWQModifierImpl(AWQModifier):
        """AWQModifier whose grid search runs the parent modules on ``search_samples`` calibration samples."""

        search_samples: int | None = None
        calibration_batch_size: int = 1

        @no_grad()
        def _run_samples(self, module: Any) -> list[Any]:
            cache = self._parent_args_cache[module]
            state = active_session().state
            if self.search_samples is None or (state is not None and state.loss_masks):
                # Loss masks are indexed by batch position; a subset would misalign them, so score all.
                return super()._run_samples(module)
            picked = search_batches(batches=len(cache), batch_size=self.calibration_batch_size,
                                    search_samples=self.search_samples)
            outputs = [module(**cache.fetch(i)) for i in picked]
            return [out[0] if isinstance(out, tuple) else out for out in outputs]

    SubsetSearchAWQModifierImpl.__name__ = "SubsetSearchAWQModifier"
    return SubsetSearchAWQModifierImpl


_CLASS: type | None = None


def subset_search_awq(**kwargs: Any) -> Any:
    """An llm-compressor AWQ modifier whose grid search scores a subset of the calibration batches.

    Args:
        kwargs: AWQModifier fields, plus ``search_samples`` (None: all) and ``calibration_batch_size``.
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
