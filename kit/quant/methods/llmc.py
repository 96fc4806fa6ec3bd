"""llm-compressor recipes: GPTQ, AWQ and round-to-nearest, saved as compressed-tensors."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from kit.quant.methods.base import Method, Request

__all__ = ["AWQ_DUO_SCALING", "AWQ_N_GRID", "CALIBRATION_BATCH", "LlmcMethod", "awq_cpu_pin_memory_shim"]

_SUMMARIES = {
    "gptq": "GPTQ: column-by-column rounding with Hessian-based error correction (llm-compressor GPTQModifier)",
    "awq": "AWQ: activation-aware per-channel scaling, then round-to-nearest (AWQModifier + QuantizationModifier)",
    "rtn": "round-to-nearest, data-free (llm-compressor QuantizationModifier): the no-calibration reference",
}

#: Calibration chunks per forward pass (all chunks have one length, so batches stack without padding).
#: Batch 1 made AWQ's grid search run each parent module once per chunk per grid point; batching
#: cuts that Python/kernel overhead, and GPTQ's Hessian and AWQ's means/losses are sums over tokens.
CALIBRATION_BATCH = 8
#: AWQ's grid search: llm-compressor 0.14 defaults (20 scale ratios, duo scaling), kept until the
#: recovery study shows a coarser grid costs no accuracy.
AWQ_N_GRID = 20
AWQ_DUO_SCALING = True

_SHIM = "awq-cpu-pin-memory: IntermediatesCache.pin_memory made a no-op (no accelerator)"


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _needs_pin_memory_shim() -> bool:
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

    if not _needs_pin_memory_shim():
        yield False
        return
    original = IntermediatesCache.pin_memory
    IntermediatesCache.pin_memory = lambda self, batch_index, input_names=None: None  # type: ignore[method-assign]
    try:
        yield True
    finally:
        IntermediatesCache.pin_memory = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _quiet(mute: bool) -> Iterator[None]:
    """While ``mute``: silence llm-compressor's loguru lines and its tqdm bars (progress off)."""
    from loguru import logger

    if not mute:
        yield
        return
    names = ("llmcompressor", "compressed_tensors")
    for name in names:
        logger.disable(name)
    try:
        # Its tqdm bars look up sys.stderr when created; log handlers keep the real stream.
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for name in names:
            logger.enable(name)


def _modifier_record(modifier: Any) -> dict[str, Any]:
    """A modifier's user settings (its config group is logged once under ``weights``)."""
    fields = modifier.model_dump(mode="json", exclude_none=True, exclude={"config_groups"})
    return {"type": type(modifier).__name__, **{k: v for k, v in fields.items() if not k.endswith("_")}}


class LlmcMethod(Method):
    """``gptq``, ``awq`` or ``rtn``: int weights, symmetric, per-group scales; ``lm_head`` kept."""

    library: ClassVar[str] = "llmcompressor"
    supported_bits: ClassVar[tuple[int, ...]] = (4, 8)
    default_bits: ClassVar[int] = 4
    grouped: ClassVar[bool] = True
    granularity: ClassVar[str] = "groups of `--group-size` weights (default: automatic, see below)"

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.summary = _SUMMARIES[name]  # type: ignore[misc]
        self.calibrated = name != "rtn"  # type: ignore[misc]

    def scheme(self, *, bits: int, group_size: int | None) -> Any:
        """The explicit compressed-tensors config group: int, symmetric, strategy "group".

        Args:
            bits: weight bits.
            group_size: weights per scale.
        """
        from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme

        return QuantizationScheme(targets=["Linear"], weights=QuantizationArgs(
            num_bits=bits, type="int", symmetric=True, strategy="group", group_size=group_size))

    def recipe(self, *, bits: int, group_size: int | None, ignore: tuple[str, ...] = ()) -> list[Any]:
        """The llm-compressor modifiers for this method.

        Args:
            bits: weight bits.
            group_size: weights per scale.
            ignore: module names kept in full precision besides ``lm_head``.
        """
        from llmcompressor.modifiers.gptq import GPTQModifier
        from llmcompressor.modifiers.quantization import QuantizationModifier
        from llmcompressor.modifiers.transform.awq import AWQModifier

        groups = {"group_0": self.scheme(bits=bits, group_size=group_size)}
        if self.name == "gptq":
            return [GPTQModifier(config_groups=groups, ignore=[*self.ignore, *ignore])]
        quant = QuantizationModifier(config_groups=groups, ignore=[*self.ignore, *ignore])
        return [AWQModifier(n_grid=AWQ_N_GRID, duo_scaling=AWQ_DUO_SCALING), quant] if self.name == "awq" else [quant]

    def settings(self, *, bits: int, group_size: int | None) -> dict[str, Any]:
        """Scheme fields for the config log.

        Args:
            bits: weight bits.
            group_size: weights per scale.
        """
        return {
            "symmetric": True,
            "quant_type": "int",
            "format": "compressed-tensors pack-quantized",
            "runtime": "transformers + compressed-tensors (vLLM loads the same folder)",
            "scheme": {
                "description": self.summary,
                "weights": self.scheme(bits=bits, group_size=group_size).weights.model_dump(mode="json"),
                "modifiers": [_modifier_record(m) for m in self.recipe(bits=bits, group_size=group_size)],
            },
            "ignore": list(self.ignore),
            "calibration_batch_size": CALIBRATION_BATCH if self.calibrated else None,
            "torch_threads": _threads(),
        }

    def quantize(self, request: Request) -> Any:
        """Run ``oneshot`` on the fp32 baseline with the recipe (and the calibration chunks).

        Args:
            request: baseline folder, bits, group size, calibration chunks, progress.
        """
        import torch
        from torch.utils.data import DataLoader
        from transformers import AutoModelForCausalLM

        with _quiet(not request.progress):  # importing llm-compressor logs "No accelerator" lines
            from llmcompressor import oneshot

            recipe = self.recipe(bits=request.bits, group_size=request.group_size, ignore=request.ignore)
        model = AutoModelForCausalLM.from_pretrained(request.baseline, dtype=torch.float32, use_safetensors=True)
        kwargs: dict[str, Any] = {}
        if request.calibration is not None:
            cal = request.calibration
            rows = [{"input_ids": torch.tensor(c), "attention_mask": torch.ones(len(c), dtype=torch.long)}
                    for c in cal.chunks]
            kwargs = {"dataset": DataLoader(rows, batch_size=min(CALIBRATION_BATCH, len(rows)), shuffle=False),
                      "num_calibration_samples": cal.samples, "max_seq_length": cal.seq_len}
        shim = awq_cpu_pin_memory_shim() if self.name == "awq" else contextlib.nullcontext(False)
        with _quiet(not request.progress), shim:
            model = oneshot(model=model, recipe=recipe, **kwargs)
        return model.eval()

    def save(self, model: Any, folder: Path) -> None:
        """Compress in place and write compressed-tensors safetensors (+ ``recipe.yaml``).

        Args:
            model: the model ``oneshot`` returned.
            folder: the temp output folder.
        """
        with _quiet(True), warnings.catch_warnings():
            # transformers warns about "offloaded modules": llm-compressor wraps the model in
            # accelerate offloading only for the save; everything is on the CPU here.
            warnings.filterwarnings("ignore", message="Attempting to save a model with offloaded modules")
            model.save_pretrained(folder, save_compressed=True)

    def runtime_notes(self, model: Any) -> dict[str, Any]:
        """How many modules carry a quantization scheme, the scheme as resolved, and any shim applied.

        Args:
            model: the quantized model.
        """
        schemes = [m.quantization_scheme for m in model.modules() if getattr(m, "quantization_scheme", None) is not None]
        shims = [_SHIM] if self.name == "awq" and _needs_pin_memory_shim() else []
        # What the modifiers resolved (e.g. GPTQ's default actorder "static"), as saved in config.json.
        resolved = schemes[0].weights.model_dump(mode="json") if schemes and schemes[0].weights else None
        return {"quantized_modules": len(schemes), "shims": shims, "resolved_weights": resolved}
