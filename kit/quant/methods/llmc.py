"""llm-compressor recipes: GPTQ, AWQ (with its clipping search), AutoRound and round-to-nearest, saved as compressed-tensors."""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kit.quant.methods.base import Method, Request
from kit.quant.methods.llmc_support import modifier_record, quiet, torch_threads, tuning_record
from kit.quant.shapes import SchemeSettings

__all__ = ["CALIBRATION_BATCH", "OBSERVERS", "SCHEMES", "LlmcChannelMethod", "LlmcMethod", "LlmcScheme"]

_SUMMARIES = {
    "gptq": "GPTQ: column-by-column rounding with Hessian-based error correction (llm-compressor GPTQModifier)",
    "awq": "AWQ: activation-aware per-channel scaling (scheme `clip`: then its per-group clipping search), then "
           "round-to-nearest (AWQModifier + QuantizationModifier)",
    "autoround": "AutoRound: rounding offsets and clipping tuned by signed gradient descent on each block's output "
                 "(AutoRoundModifier, auto-round)",
    "rtn": "round-to-nearest, data-free (llm-compressor QuantizationModifier): the no-calibration reference",
    "rtn-int8": "round-to-nearest to symmetric int8, one scale per output row, data-free (llm-compressor "
                "QuantizationModifier): the format torch's int8 weight-only kernel serves (packed engine)",
}

#: Calibration chunks per forward pass (all chunks have one length, so batches stack without padding).
#: Batch 1 made AWQ's grid search run each parent module once per chunk per grid point; batching
#: cuts that Python/kernel overhead, and GPTQ's Hessian and AWQ's means/losses are sums over tokens.
CALIBRATION_BATCH = 8


#: How a group's scale and zero point are fitted (compressed-tensors ``QuantizationArgs.observer``):
#: None/"minmax" the group's range; "mse" the range shrunk to minimise the weights' rounding error;
#: "imatrix_mse" the same, each input channel's error weighted by its mean squared activation on
#: the calibration set (needs calibration data: gptq/awq).
OBSERVERS: tuple[str | None, ...] = (None, "minmax", "mse", "imatrix_mse")


@dataclasses.dataclass(frozen=True)
class LlmcScheme:
    """The int-weight scheme choices besides bits and group size (see docs/quantization.md, recovery study)."""

    symmetric: bool = True  # False: a zero point per group (asymmetric int)
    actorder: str | None = "static"  # GPTQ column order: "static"/"group"/"weight" or None (in order)
    dampening_frac: float = 0.01  # GPTQ: fraction of the Hessian's mean diagonal added before inverting
    n_grid: int = 20  # AWQ: scale ratios tried per mapping
    duo_scaling: bool = True  # AWQ: scale from activations and weights (False: activations only)
    search_samples: int | None = None  # AWQ: calibration samples its grid search scores (None: all)
    observer: str | None = None  # how scales/zero points are fitted: one of OBSERVERS (None: min-max)
    clip: bool = False  # AWQ: the clipping search after the scale search (kit.quant.methods.awq_clip)
    iters: int = 200  # AutoRound: signed-gradient steps per block (AutoRoundModifier's default)
    lr: float | None = None  # AutoRound: step size (None: auto-round's rule, 1/iters)
    per_channel: bool = False  # one scale per output row instead of groups (no group size)

    def __post_init__(self) -> None:
        """Refuse an observer llm-compressor would reject deep in a run, and a non-positive sample count."""
        from kit.errors import KitError

        if self.observer not in OBSERVERS:
            raise KitError(f"unknown observer {self.observer!r}; choose one of "
                           f"{', '.join(str(o) for o in OBSERVERS)}")
        n = self.search_samples
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise KitError(f"search_samples must be a whole number ≥ 1 or None (all samples), got {n!r}")
        if not isinstance(self.iters, int) or isinstance(self.iters, bool) or self.iters < 1:
            raise KitError(f"iters must be a whole number ≥ 1, got {self.iters!r}")
        if self.lr is not None and (isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or self.lr <= 0):
            raise KitError(f"lr must be a positive number or None (auto-round's 1/iters), got {self.lr!r}")

    @property
    def resolved_lr(self) -> float:
        """AutoRound's step size: ``lr``, or auto-round's own rule for 4-8 bits below 1000 steps (1/iters)."""
        return float(self.lr) if self.lr is not None else 1.0 / self.iters

    def with_overrides(self, overrides: Mapping[str, Any]) -> LlmcScheme:
        """This scheme with ``overrides`` applied; a one-line error naming the fields for an unknown key.

        Args:
            overrides: field name → value.
        """
        from kit.errors import KitError, names

        fields = [f.name for f in dataclasses.fields(self)]
        unknown = set(overrides) - set(fields)
        if unknown:
            raise KitError(f"unknown scheme field(s) {names(unknown)}; choose from {', '.join(fields)}")
        return dataclasses.replace(self, **overrides)

    def changes(self, method: str) -> dict[str, Any]:
        """The fields that differ from ``method``'s sanctioned scheme (a deviation, logged).

        Args:
            method: a key of :data:`SCHEMES`.
        """
        base = SCHEMES[method]
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(base, f.name)}


#: Each method's sanctioned scheme, chosen from the recovery study (benchmarks/study.py →
#: benchmarks/RESULTS.md, reasoned in docs/quantization.md). Defined here once; the config log,
#: the policy's method table and the docs read it.
SCHEMES: dict[str, LlmcScheme] = {
    # Asymmetric (a zero point per group): RTN, GPTQ and AWQ alike lose less than symmetric.
    # GPTQ: static activation ordering and 1 % dampening recovered the most, and fitting each
    # group's scale and zero point by activation-weighted MSE (imatrix_mse) recovered more than
    # min-max or weight-only MSE.
    "gptq": LlmcScheme(symmetric=False, actorder="static", dampening_frac=0.01, observer="imatrix_mse"),
    # AWQ: 10 grid points scored on 16 spread calibration samples (the activation means use all)
    # lost nothing against 20 points on every sample at a quarter of the grid's time; min-max
    # scales (imatrix_mse gained little for a third more time, weight MSE lost). The paper's
    # clipping search (clip) on: it recovered about a tenth more of RTN's loss at group 64, at
    # group 32 and per channel, and kept AWQ within 2x GPTQ's quantization time.
    "awq": LlmcScheme(symmetric=False, n_grid=10, duo_scaling=True, search_samples=16, clip=True),
    # AutoRound: asymmetric like the others; 25 steps per block (the library's default is 200
    # would take hours for the 30-block model on a CPU). In the study 25 steps recovered 0.72
    # of RTN's loss at group 64 (GPTQ 0.76, in 2.7x less time); 10 steps at auto-round's step
    # rule did worse than plain rounding.
    "autoround": LlmcScheme(symmetric=False, iters=25),
    # The data-free reference is plain min-max rounding to the same format, so recovery compares
    # like with like (weight-only MSE rounding scored worse on perplexity).
    "rtn": LlmcScheme(symmetric=False),
    # Per-channel int8 for the packed engine's int8 kernel (torch._weight_int8pack_mm takes one
    # symmetric scale per output row, no zero point): symmetric by construction.
    "rtn-int8": LlmcScheme(symmetric=True),
}

class LlmcMethod(Method):
    """``gptq``, ``awq``, ``autoround`` or ``rtn``: int weights, group scales, the scheme of :data:`SCHEMES`; lm_head kept."""

    library: ClassVar[str] = "llmcompressor"
    takes_overrides: ClassVar[bool] = True
    supported_bits: ClassVar[tuple[int, ...]] = (4, 8)
    default_bits: ClassVar[int] = 4
    grouped: ClassVar[bool] = True
    granularity: ClassVar[str] = "groups of `--group-size` weights (default: automatic, see below)"
    strategy: ClassVar[str] = "group"  # compressed-tensors' QuantizationStrategy

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.summary = _SUMMARIES[name]  # type: ignore[misc]
        self.calibrated = not name.startswith("rtn")  # type: ignore[misc]

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> LlmcScheme:
        """This method's sanctioned scheme with ``overrides`` applied (checked).

        Args:
            overrides: scheme field → value (see :class:`LlmcScheme`).
        """
        from kit.errors import KitError

        chosen = SCHEMES[self.name].with_overrides(overrides or {})
        if chosen.observer == "imatrix_mse" and not self.calibrated:
            raise KitError(f"observer imatrix_mse weighs errors by calibration activations; {self.name} has no "
                           "calibration: use observer mse or minmax, or a calibrated method (gptq, awq)")
        if chosen.observer is not None and self.name == "autoround":
            raise KitError("autoround tunes its own scales and zero points; drop the observer override")
        if chosen.clip and self.name != "awq":
            raise KitError(f"clip is AWQ's clipping search; {self.name} has none: drop clip or use awq")
        return chosen

    def scheme(self, *, bits: int, group_size: int | None, overrides: Mapping[str, Any] | None = None) -> Any:
        """The explicit compressed-tensors config group: int, strategy "group", symmetric as the scheme says.

        Args:
            bits: weight bits.
            group_size: weights per scale.
            overrides: scheme field → value (see :class:`LlmcScheme`).
        """
        from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme

        chosen = self.resolve(overrides)
        return QuantizationScheme(targets=["Linear"], weights=QuantizationArgs(
            num_bits=bits, type="int", symmetric=chosen.symmetric,
            strategy="channel" if chosen.per_channel else self.strategy,
            group_size=None if (chosen.per_channel or not self.grouped) else group_size, observer=chosen.observer))

    def recipe(self, *, bits: int, group_size: int | None, ignore: tuple[str, ...] = (),
               overrides: Mapping[str, Any] | None = None) -> list[Any]:
        """The llm-compressor modifiers for this method.

        Args:
            bits: weight bits.
            group_size: weights per scale.
            ignore: module names kept in full precision besides ``lm_head``.
            overrides: scheme field → value (see :class:`LlmcScheme`).
        """
        from llmcompressor.modifiers.gptq import GPTQModifier
        from llmcompressor.modifiers.quantization import QuantizationModifier

        from kit.quant.methods.autoround_zp import zero_point_autoround
        from kit.quant.methods.awq_search import subset_search_awq

        chosen = self.resolve(overrides)
        groups = {"group_0": self.scheme(bits=bits, group_size=group_size, overrides=overrides)}
        if self.name == "gptq":
            return [GPTQModifier(config_groups=groups, ignore=[*self.ignore, *ignore], actorder=chosen.actorder,
                                 dampening_frac=chosen.dampening_frac)]
        if self.name == "autoround":  # torch.compile off: on a CPU it compiles longer than it saves
            return [zero_point_autoround(config_groups=groups, ignore=[*self.ignore, *ignore], iters=chosen.iters,
                                         lr=chosen.resolved_lr, batch_size=CALIBRATION_BATCH, enable_torch_compile=False)]
        quant = QuantizationModifier(config_groups=groups, ignore=[*self.ignore, *ignore])
        if self.name == "awq":
            return [subset_search_awq(n_grid=chosen.n_grid, duo_scaling=chosen.duo_scaling,
                                      search_samples=chosen.search_samples, calibration_batch_size=CALIBRATION_BATCH,
                                      clip=chosen.clip), quant]
        return [quant]

    def settings(self, *, bits: int, group_size: int | None, overrides: Mapping[str, Any] | None = None
                 ) -> SchemeSettings:
        """Scheme fields for the config log (a deviation from the sanctioned scheme is listed).

        Args:
            bits: weight bits.
            group_size: weights per scale.
            overrides: scheme field → value (see :class:`LlmcScheme`).
        """
        chosen = self.resolve(overrides)
        return {
            "symmetric": chosen.symmetric,
            "quant_type": "int",
            "format": "compressed-tensors pack-quantized",
            "runtime": "transformers + compressed-tensors (vLLM loads the same folder)",
            "scheme": {
                "description": self.summary,
                "weights": self.scheme(bits=bits, group_size=group_size, overrides=overrides).weights.model_dump(
                    mode="json"),
                "modifiers": [modifier_record(m) for m in self.recipe(bits=bits, group_size=group_size,
                                                                       overrides=overrides)],
                "deviation_from_sanctioned": chosen.changes(self.name),
            },
            "ignore": list(self.ignore),
            "calibration_batch_size": CALIBRATION_BATCH if self.calibrated else None,
            "torch_threads": torch_threads(),
            "tuning": tuning_record(method=self.name, chosen=chosen, batch_size=CALIBRATION_BATCH),
        }

    def quantize(self, request: Request) -> Any:
        """Run ``oneshot`` on the fp32 baseline with the recipe (and the calibration chunks).

        Args:
            request: baseline folder, bits, group size, calibration chunks, progress.
        """
        import torch
        from torch.utils.data import DataLoader
        from transformers import AutoModelForCausalLM

        with quiet(not request.progress):  # importing llm-compressor logs "No accelerator" lines
            from llmcompressor import oneshot

            recipe = self.recipe(bits=request.bits, group_size=request.group_size, ignore=request.ignore,
                                 overrides=request.scheme)
        model = AutoModelForCausalLM.from_pretrained(request.baseline, dtype=torch.float32, use_safetensors=True)
        kwargs: dict[str, Any] = {}
        if request.calibration is not None:
            cal = request.calibration
            rows = [{"input_ids": torch.tensor(c), "attention_mask": torch.ones(len(c), dtype=torch.long)}
                    for c in cal.chunks]
            kwargs = {"dataset": DataLoader(rows, batch_size=min(CALIBRATION_BATCH, len(rows)), shuffle=False),
                      "num_calibration_samples": cal.samples, "max_seq_length": cal.seq_len}
        from kit.quant.methods.awq_search import awq_cpu_pin_memory_shim

        shim = awq_cpu_pin_memory_shim() if self.name == "awq" else contextlib.nullcontext(False)
        with quiet(not request.progress), shim:
            model = oneshot(model=model, recipe=recipe, **kwargs)
        model.kit_clip_stats = [row for m in recipe for row in getattr(m, "_clip_stats", None) or []]
        return model.eval()

    def save(self, model: Any, folder: Path) -> None:
        """Compress in place and write compressed-tensors safetensors (+ ``recipe.yaml``).

        Args:
            model: the model ``oneshot`` returned.
            folder: the temp output folder.
        """
        with quiet(True), warnings.catch_warnings():
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
        from kit.quant.methods.awq_search import SHIM, needs_pin_memory_shim

        shims = [SHIM] if self.name == "awq" and needs_pin_memory_shim() else []
        # What the modifiers resolved (e.g. GPTQ's default actorder "static"), as saved in config.json.
        resolved = schemes[0].weights.model_dump(mode="json") if schemes and schemes[0].weights else None
        notes: dict[str, Any] = {"quantized_modules": len(schemes), "shims": shims, "resolved_weights": resolved}
        clipped = getattr(model, "kit_clip_stats", None)
        if clipped:  # what AWQ's clipping search chose, in short
            notes["tuning_measured"] = {"clipped_layers": len(clipped), "tokens_per_layer": clipped[0]["tokens"],
                                        "mean_ratio": round(sum(r["mean_ratio"] for r in clipped) / len(clipped), 4)}
        return notes


class LlmcChannelMethod(LlmcMethod):
    """``rtn-int8``: symmetric int8 weights with one scale per output row (what the packed engine's int8 kernel takes)."""

    supported_bits: ClassVar[tuple[int, ...]] = (8,)
    default_bits: ClassVar[int] = 8
    grouped: ClassVar[bool] = False
    granularity: ClassVar[str] = "each output row (one symmetric scale per channel)"
    strategy: ClassVar[str] = "channel"
