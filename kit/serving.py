"""The packed engine: a saved compressed-tensors artifact's own integer codes on packed weight-only kernels.

``load_packed(path)`` builds the model without its weights, loads the unquantized tensors
(embeddings, norms, ``lm_head``) in bfloat16, and replaces every quantized Linear with
:class:`Int4Linear` (int4 groups, ``torch.ops.aten._weight_int4pack_mm_for_cpu``) or
:class:`Int8Linear` (int8 with one symmetric scale per output row, ``torch._weight_int8pack_mm``).
Nothing is re-quantized from floating point: the codes come from the artifact's
``weight_packed`` through compressed-tensors' own unpacking; the bf16 ``lm_head`` runs a
matrix-vector product at decode (:class:`BatchOneHead`). Activations run in bfloat16 (both
kernels are ~10-30x slower with float32 activations). Why torch's ops and not torchao: docs/engines.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from kit.engines import EngineInfo
from kit.errors import KitError

__all__ = ["ACTIVATIONS", "BACKEND", "INT4_GROUP_SIZES", "BatchOneHead", "Int4Linear", "Int8Linear", "check_servable",
           "load_packed", "packed_engine", "servable_scheme"]

#: The kernel library the packed engine calls (torch's own ops; torchao wraps the same int4 kernel).
BACKEND = "torch"
#: Activation dtype of the packed engine (embeddings, norms and lm_head are served in it too).
ACTIVATIONS = "bfloat16"
#: Group sizes torch's CPU int4 kernel takes.
INT4_GROUP_SIZES = (32, 64, 128, 256)
_INT4_OFFSET = 8  # compressed-tensors stores int4 code q in [-8, 7] as the nibble q + 8; the kernel reads that nibble
_SUFFIXES = ("weight_packed", "weight_scale", "weight_zero_point", "weight_shape", "weight_g_idx", "bias")


def packed_engine() -> EngineInfo:
    """The packed engine as a record states it."""
    return EngineInfo(name="packed", backend=BACKEND, activations=ACTIVATIONS)


class Int4Linear(torch.nn.Module):
    """A Linear on torch's packed int4 CPU kernel: weight = (code − 8)·scale + zero per group, bfloat16 activations."""

    def __init__(self, *, codes: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor, group_size: int,
                 bias: torch.Tensor | None = None) -> None:
        """Pack ``codes`` (unsigned 0..15, shape out × in) with their per-group scales and kernel zeros.

        Args:
            codes: the artifact's int4 codes as stored (the nibble, 0..15), shape (out, in).
            scales: per-group scales, shape (out, in / group_size).
            zeros: per-group kernel zeros (``−zero_point·scale``), same shape as ``scales``.
            group_size: weights per group.
            bias: optional bias (out,).
        """
        super().__init__()
        self.out_features, self.in_features = (int(n) for n in codes.shape)
        self.group_size = group_size
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes.to(torch.int32).contiguous(), 1)
        self.register_buffer("packed", packed)
        pairs = torch.stack([scales.t(), zeros.t()], dim=-1).to(torch.bfloat16).contiguous()
        self.register_buffer("scale_zeros", pairs)  # (in / group_size, out, 2), the kernel's layout
        self.register_buffer("bias", None if bias is None else bias.to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T (+ bias)`` in bfloat16.

        Args:
            x: activations (…, in).
        """
        flat = x.reshape(-1, self.in_features).to(torch.bfloat16).contiguous()
        y = torch.ops.aten._weight_int4pack_mm_for_cpu(flat, self.packed, self.group_size, self.scale_zeros)
        y = y.reshape(*x.shape[:-1], self.out_features)
        return y if self.bias is None else y + self.bias

    def read_back(self, *, raw_codes: bool = False) -> torch.Tensor:
        """The weight the kernel holds, read through the kernel itself (identity input; layout-independent).

        Args:
            raw_codes: return the packed integer codes (0..15) instead of the dequantized weight.
        """
        eye = torch.eye(self.in_features, dtype=torch.bfloat16)
        pairs = self.scale_zeros
        if raw_codes:  # scale 1, zero 8: (code − 8)·1 + 8 = code, exact in bfloat16
            pairs = torch.stack([torch.ones_like(pairs[..., 0]), torch.full_like(pairs[..., 1], _INT4_OFFSET)], -1)
        with torch.inference_mode():
            w = torch.ops.aten._weight_int4pack_mm_for_cpu(eye, self.packed, self.group_size, pairs.contiguous()).t()
        return w.to(torch.int16) if raw_codes else w

    def extra_repr(self) -> str:
        """Shape and group size."""
        return f"in_features={self.in_features}, out_features={self.out_features}, group_size={self.group_size}"


class Int8Linear(torch.nn.Module):
    """A Linear on torch's int8 weight-only kernel: weight = code·scale, one symmetric scale per output row."""

    def __init__(self, *, codes: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        """Keep ``codes`` (int8, out × in) and ``scales`` (out,) as the kernel takes them.

        Args:
            codes: the artifact's int8 codes, shape (out, in).
            scales: one scale per output row.
            bias: optional bias (out,).
        """
        super().__init__()
        self.out_features, self.in_features = (int(n) for n in codes.shape)
        self.register_buffer("codes", codes.to(torch.int8).contiguous())
        self.register_buffer("scales", scales.reshape(-1).to(torch.bfloat16).contiguous())
        self.register_buffer("bias", None if bias is None else bias.to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T (+ bias)`` in bfloat16.

        Args:
            x: activations (…, in).
        """
        flat = x.reshape(-1, self.in_features).to(torch.bfloat16).contiguous()
        y = torch._weight_int8pack_mm(flat, self.codes, self.scales).reshape(*x.shape[:-1], self.out_features)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        """Shape."""
        return f"in_features={self.in_features}, out_features={self.out_features}"


class BatchOneHead(torch.nn.Module):
    """The unquantized bf16 output layer (``lm_head``), on a matrix-vector product when one position is asked for.

    At decode time (one token, batch 1) torch's bf16 ``mv`` ran the 49152 × 576 head ~1.6x faster
    than ``F.linear`` on the development CPU (fp32 showed no such gap). The weight is the same
    Parameter (still tied to the embedding when the model ties them).
    """

    def __init__(self, *, weight: torch.nn.Parameter, bias: torch.Tensor | None = None) -> None:
        """Keep the head's own weight (and bias).

        Args:
            weight: the head's weight (out × in), shared, not copied.
            bias: optional bias (out,).
        """
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T (+ bias)``.

        Args:
            x: hidden states (…, in).
        """
        flat = x.reshape(-1, x.shape[-1]).to(self.weight.dtype)
        y = torch.mv(self.weight, flat[0]).unsqueeze(0) if flat.shape[0] == 1 else torch.nn.functional.linear(
            flat, self.weight)
        y = y.reshape(*x.shape[:-1], y.shape[-1])
        return y if self.bias is None else y + self.bias


def check_servable(*, device: str, quant: dict[str, Any] | None, path: Path | None) -> dict[str, Any]:
    """The weights scheme of a model the packed engine can serve on ``device``, else a one-line error naming the fix.

    Args:
        device: the checked device.
        quant: the artifact's quantization log (None for a baseline).
        path: the model folder (None for a hub id).
    """
    if device != "cpu":
        raise KitError(f"the packed engine runs on the CPU kernels only (asked for {device}); pass --device cpu, "
                       "or --engine reference on a GPU")
    if path is None or not quant:
        raise KitError(f"the packed engine serves a quantized artifact written by `kit quantize`; {path or 'this'} is "
                       "not one: evaluate a baseline on --engine reference (load_model(..., dtype='bfloat16') for its bf16 form)")
    if quant.get("library") == "bitsandbytes":
        raise KitError(f"the packed engine does not run bitsandbytes artifacts ({quant.get('method')} keeps its own "
                       "kernels): use --engine reference, or quantize with rtn-int8/gptq/awq/rtn for the packed engine")
    return servable_scheme(json.loads((path / "config.json").read_text()))


def servable_scheme(config: dict[str, Any]) -> dict[str, Any]:
    """The weights scheme of an artifact's ``config.json`` if the packed engine serves it, else a one-line error.

    Served: compressed-tensors ``pack-quantized`` int weights, either 4-bit in groups of
    :data:`INT4_GROUP_SIZES` (symmetric or with zero points) or 8-bit symmetric per channel.

    Args:
        config: the artifact's parsed ``config.json``.
    """
    q = config.get("quantization_config") or {}
    method = q.get("quant_method")
    if method != "compressed-tensors":
        what = f"a {method} artifact" if method else "not a quantized artifact"
        raise KitError(f"the packed engine serves compressed-tensors artifacts (gptq, awq, rtn, rtn-int8); this is "
                       f"{what}: evaluate it with --engine reference")
    groups = list((q.get("config_groups") or {}).values())
    group = groups[0] if len(groups) == 1 else {}  # one scheme for every quantized Linear
    weights = group.get("weights") or {}
    bits, strategy = weights.get("num_bits"), weights.get("strategy")
    fmt = group.get("format") or q.get("format")
    int4 = bits == 4 and strategy == "group" and weights.get("group_size") in INT4_GROUP_SIZES
    int8 = bits == 8 and strategy == "channel" and weights.get("symmetric")
    if fmt != "pack-quantized" or weights.get("type") != "int" or not (int4 or int8) or group.get("input_activations"):
        raise KitError(f"the packed engine serves int4 groups of {'/'.join(map(str, INT4_GROUP_SIZES))} or symmetric "
                       f"per-channel int8 weight-only artifacts; this one is {bits}-bit {strategy} "
                       f"(group {weights.get('group_size')}, format {fmt}): re-quantize (e.g. --method rtn-int8 or "
                       "--group-size 64) or use --engine reference")
    return weights


def _int4_module(name: str, t: dict[str, torch.Tensor], weights: dict[str, Any]) -> Int4Linear:
    from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32

    shape = torch.Size(int(n) for n in t["weight_shape"])
    group = int(weights["group_size"])
    if shape[0] % 16 or shape[1] % group:
        raise KitError(f"{name}: shape {tuple(shape)} does not fit the int4 kernel (rows a multiple of 16, columns of "
                       f"the group size {group}); add it to --ignore when quantizing, or use --engine reference")
    if "weight_g_idx" in t and not torch.equal(t["weight_g_idx"].long(), torch.arange(shape[1]) // group):
        raise KitError(f"{name}: activation-ordered groups (g_idx) are not contiguous, which the int4 kernel needs; "
                       "re-quantize with actorder static (the sanctioned gptq scheme) or use --engine reference")
    codes = unpack_from_int32(t["weight_packed"], 4, shape).to(torch.int32) + _INT4_OFFSET  # the stored nibble
    scales = t["weight_scale"].float()
    if "weight_zero_point" in t:
        zp = unpack_from_int32(t["weight_zero_point"], 4, torch.Size((shape[0], scales.shape[1])), packed_dim=0)
    else:
        zp = torch.zeros_like(scales)
    # compressed-tensors: w = (q − zp)·s = (nibble − 8)·s − zp·s, so the kernel's zero is −zp·s (= (8 − nibble_zp)·s).
    return Int4Linear(codes=codes, scales=scales, zeros=-zp.float() * scales, group_size=group, bias=t.get("bias"))


def _int8_module(t: dict[str, torch.Tensor]) -> Int8Linear:
    from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32

    shape = torch.Size(int(n) for n in t["weight_shape"])
    codes = unpack_from_int32(t["weight_packed"], 8, shape)  # int8 in [-128, 127], the artifact's codes
    return Int8Linear(codes=codes, scales=t["weight_scale"].float(), bias=t.get("bias"))


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    tensors: dict[str, torch.Tensor] = {}
    for file in sorted(path.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            names = f.keys()  # a safetensors handle is not iterable
            tensors.update((key, f.get_tensor(key)) for key in names)
    return tensors


def _return_freed_memory() -> None:
    """Hand the loader's freed temporaries (unpacked codes, the float embedding) back to the OS (glibc only).

    Unpacking leaves freed blocks in malloc's heap; without this the process's RSS after load
    overstates what serving the model holds by ~80 MB on SmolLM2-135M.
    """
    import contextlib
    import ctypes
    import ctypes.util
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to hand back this way
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def load_packed(path: Path) -> tuple[Any, dict[str, Any]]:
    """Build the model of a compressed-tensors artifact on the packed engine (CPU, bfloat16 activations).

    Returns the model (eval mode) and what was served: counts of int4/int8 modules, group size.

    Args:
        path: the artifact folder (``config.json`` + safetensors, as ``kit quantize`` wrote it).
    """
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    weights = servable_scheme(json.loads((path / "config.json").read_text()))
    config = AutoConfig.from_pretrained(path)
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # built bare: the packed modules replace compressed-tensors' own
    with init_empty_weights(include_buffers=False):  # parameters on meta: no float copy of the weights
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    tensors = _read_tensors(path)
    quantized = sorted({k.rsplit(".", 1)[0] for k in tensors if k.endswith(".weight_packed")})
    for name in quantized:
        own = {s: tensors.pop(f"{name}.{s}") for s in _SUFFIXES if f"{name}.{s}" in tensors}
        module = _int4_module(name, own, weights) if weights["num_bits"] == 4 else _int8_module(own)
        model.set_submodule(name, module)
    state = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in tensors.items()}
    result = model.load_state_dict(state, strict=False, assign=True)
    model.tie_weights()
    head = model.get_output_embeddings()
    if isinstance(head, torch.nn.Linear) and not head.weight.is_meta:
        model.set_output_embeddings(BatchOneHead(weight=head.weight, bias=head.bias))
    if result.unexpected_keys or [n for n, p in model.named_parameters() if p.is_meta]:
        missing = [n for n, p in model.named_parameters() if p.is_meta]
        raise KitError(f"{path}: the artifact's tensors do not match its model ({(missing or result.unexpected_keys)[0]}"
                       " unmatched); re-create it with `kit quantize`")
    if (path / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(path)
    model.eval()
    del tensors, state
    _return_freed_memory()
    return model, {"int4_modules": len(quantized) if weights["num_bits"] == 4 else 0,
                   "int8_modules": len(quantized) if weights["num_bits"] == 8 else 0,
                   "group_size": weights.get("group_size"), "unquantized_dtype": ACTIVATIONS}
