"""Quantization method adapters and the method table built from them (the one source of method facts).

An adapter turns a verified fp32 baseline folder into an in-memory quantized model and saves
it in the format its runtime loads. Validation, calibration sampling, hashing, timing and the
configuration log live in :mod:`kit.quant.quantize`; adapters only talk to their library.
The policy validator, the widget pickers, the CLI choices and the docs table all read
:data:`METHOD_TABLE` (or :data:`METHODS`), so a method's name, library and bits are stated once:
in its adapter.
"""

from __future__ import annotations

import dataclasses

from kit.quant.methods.base import Method, Request
from kit.quant.methods.bnb import BnbMethod
from kit.quant.methods.llmc import LlmcChannelMethod, LlmcMethod

__all__ = [
    "COMPARE_DEFAULT",
    "METHODS",
    "METHOD_NAMES",
    "METHOD_TABLE",
    "Method",
    "MethodInfo",
    "Request",
    "method_bits",
    "method_table_markdown",
]

#: Method name → adapter instance.
METHODS: dict[str, Method] = {m.name: m for m in (
    BnbMethod("bnb-int8"), BnbMethod("bnb-nf4"), BnbMethod("bnb-fp4"),
    LlmcMethod("gptq"), LlmcMethod("awq"), LlmcMethod("autoround"), LlmcMethod("rtn"), LlmcChannelMethod("rtn-int8"),
)}
#: Method names, in table order.
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)
#: Methods ``kit compare`` runs by default (bnb-fp4 left out: NF4 is the better 4-bit bitsandbytes type).
COMPARE_DEFAULT: tuple[str, ...] = ("bnb-int8", "bnb-nf4", "gptq", "awq", "rtn")


@dataclasses.dataclass(frozen=True)
class MethodInfo:
    """One row of the method table: what a method is and what it supports (read from its adapter)."""

    name: str
    library: str
    bits: tuple[int, ...]  # supported weight bits
    default_bits: int
    grouped: bool  # takes a user-chosen group size
    calibrated: bool  # needs calibration data
    granularity: str  # which weights share a scale, in words
    summary: str

    @classmethod
    def of(cls, method: Method) -> MethodInfo:
        """The row for one adapter.

        Args:
            method: an adapter of :data:`METHODS`.
        """
        return cls(name=method.name, library=method.library, bits=tuple(method.supported_bits),
                   default_bits=method.default_bits, grouped=method.grouped, calibrated=method.calibrated,
                   granularity=method.granularity, summary=method.summary)


#: The method table, one row per method, in :data:`METHOD_NAMES` order.
METHOD_TABLE: tuple[MethodInfo, ...] = tuple(MethodInfo.of(m) for m in METHODS.values())


def method_bits() -> dict[str, list[int]]:
    """Method name → the weight bits it supports (what a picker may offer)."""
    return {row.name: list(row.bits) for row in METHOD_TABLE}


def method_table_markdown() -> str:
    """The method table as Markdown (``docs/quantization.md`` embeds exactly this text; a test checks it)."""
    lines = ["| Method | Library | What it does | Bits | Scales shared by | Calibration |",
             "|---|---|---|---|---|---|"]
    for row in METHOD_TABLE:
        bits = " or ".join(str(b) for b in row.bits) + (f" (default {row.default_bits})" if len(row.bits) > 1 else "")
        lines.append(f"| `{row.name}` | {row.library} | {row.summary} | {bits} | {row.granularity} | "
                     f"{'yes' if row.calibrated else 'none'} |")
    return "\n".join(lines)
