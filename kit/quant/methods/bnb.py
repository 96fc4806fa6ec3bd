"""bitsandbytes through transformers: LLM.int8 and 4-bit NF4 / FP4, quantized while loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from kit.log_filters import quiet_int8_cast_warning
from kit.quant.methods.base import Method, Request
from kit.quant.shapes import SchemeSettings

__all__ = ["BnbMethod"]

_KINDS = {  # summary, bits, granularity
    "bnb-int8": ("LLM.int8 (vector-wise int8 + fp16 outlier columns above threshold 6.0)", 8, "per row"),
    "bnb-nf4": ("4-bit NormalFloat, per-block absmax scales", 4, "blocks of 64 (fixed by bitsandbytes)"),
    "bnb-fp4": ("4-bit float (e2m1), per-block absmax scales", 4, "blocks of 64 (fixed by bitsandbytes)"),
}


class BnbMethod(Method):
    """``bnb-int8``, ``bnb-nf4`` or ``bnb-fp4``: data-free, quantized by transformers at load time."""

    library: ClassVar[str] = "bitsandbytes"
    calibrated: ClassVar[bool] = False
    grouped: ClassVar[bool] = False  # int8 is per row; 4-bit uses bitsandbytes' fixed block size

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.summary, bits, self.granularity = _KINDS[name]  # type: ignore[misc]
        self.supported_bits = (bits,)  # type: ignore[misc]
        self.default_bits = bits  # type: ignore[misc]

    def config(self) -> Any:
        """The ``BitsAndBytesConfig`` for this method (compute dtype float32 for CPU)."""
        import torch
        from transformers import BitsAndBytesConfig

        if self.name == "bnb-int8":
            return BitsAndBytesConfig(load_in_8bit=True)
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=self.name.removeprefix("bnb-"),
                                  bnb_4bit_compute_dtype=torch.float32)

    def settings(self, *, bits: int, group_size: int | None, overrides: dict[str, Any] | None = None
                 ) -> SchemeSettings:
        """Scheme fields for the config log.

        Args:
            bits: weight bits (8 or 4, fixed by the method).
            group_size: unused (None).
            overrides: unused (bitsandbytes fixes its scheme; quantize refuses overrides).
        """
        cfg = {k: (str(v) if not isinstance(v, (bool, int, float, type(None), list)) else v)
               for k, v in self.config().to_dict().items() if not k.startswith("_")}
        return {
            "symmetric": True,
            "quant_type": "int8" if self.name == "bnb-int8" else self.name.removeprefix("bnb-"),
            "format": "bitsandbytes (transformers quantization_config)",
            "runtime": "transformers + bitsandbytes",
            "scheme": {"description": self.summary, "bitsandbytes_config": cfg},
            "ignore": list(self.ignore),
        }

    def quantize(self, request: Request) -> Any:
        """Load the baseline through transformers with a bitsandbytes ``quantization_config``.

        Args:
            request: baseline folder, device, progress (bits fixed by the method).
        """
        from transformers import AutoModelForCausalLM

        quiet_int8_cast_warning()
        model = AutoModelForCausalLM.from_pretrained(
            request.baseline, quantization_config=self.config(), device_map=request.device, use_safetensors=True)
        return model.eval()

    def save(self, model: Any, folder: Path) -> None:
        """``save_pretrained`` keeps the quantized state; transformers reloads it with ``device_map``.

        Args:
            model: the quantized model.
            folder: the temp output folder.
        """
        model.save_pretrained(folder, safe_serialization=True)

    def runtime_notes(self, model: Any) -> dict[str, Any]:
        """The block size bitsandbytes actually used for 4-bit weights, and the module count.

        Args:
            model: the quantized model.
        """
        import bitsandbytes as bnb

        layers = [m for m in model.modules() if isinstance(m, (bnb.nn.Linear8bitLt, bnb.nn.Linear4bit))]
        notes: dict[str, Any] = {"quantized_modules": len(layers)}
        states = [getattr(m.weight, "quant_state", None) for m in layers]
        sizes = sorted({s.blocksize for s in states if s is not None})
        if sizes:
            notes["block_size"] = sizes[0] if len(sizes) == 1 else sizes
        return notes
