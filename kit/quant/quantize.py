"""The one quantization entry point: baseline + method → saved artifact + configuration log.

``quantize(model="smollm2-135m", method="gptq", out="runs/gptq")`` verifies the hashed fp32
baseline, draws the calibration chunks, runs the method's adapter (:mod:`kit.quant.methods`), and
writes weights, tokenizer and ``kit-quantization.json`` into a temp folder that is renamed
into place only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

from kit.quant.calibration import calibration_chunks
from kit.console import hf_progress, progress_default
from kit.environment import describe_environment
from kit.errors import KitError
from kit.io import atomic_dir, atomic_write_json, sha256_dir
from kit.quant.methods import METHODS, Method, Request
from kit.models import BASELINE_FILE, QUANT_FILE, LoadedModel, default_device, resolve_path
from kit.eval.timing import peak_memory

__all__ = ["GROUP_SIZES", "METHODS", "SCHEMA", "QuantResult", "default_group_size", "get_method", "quantize"]

SCHEMA = "kit.quantization/1"
#: Group sizes tried, largest first (kernels such as Marlin support 32/64/128).
GROUP_SIZES = (128, 64, 32, 16)


@dataclasses.dataclass
class QuantResult:
    """A finished quantization: where it was saved, its log, and the in-memory model."""

    path: Path
    config: dict[str, Any]
    model: LoadedModel


def get_method(name: str) -> Method:
    """The adapter for ``name``.

    Args:
        name: a key of :data:`METHODS`.
    """
    if name not in METHODS:
        raise KitError(f"unknown method '{name}'; choose one of: {', '.join(METHODS)}")
    return METHODS[name]


def _linear_widths(model: Any, ignore: tuple[str, ...]) -> dict[str, int]:
    import torch

    if isinstance(model, LoadedModel):
        model = model.model
    if not isinstance(model, torch.nn.Module):  # a reference: build the skeleton on the meta device
        from transformers import AutoConfig, AutoModelForCausalLM

        path = resolve_path(str(model))
        if path is None:
            raise KitError(f"'{model}' is not a local model; pass an alias or a folder")
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(path))
    return {name: int(m.in_features) for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.split(".")[-1] not in ignore}


def default_group_size(model: Any, requested: int | None = None, *, ignore: tuple[str, ...] = ("lm_head",)) -> int:
    """The group size to use: ``requested`` if it divides every quantized Linear's input width, else the largest that does.

    Args:
        model: a ``LoadedModel``, a torch module, or a reference (alias / folder).
        requested: the user's group size; None picks the largest of :data:`GROUP_SIZES` that fits.
        ignore: Linear module names left unquantized (their widths do not count).
    """
    widths = _linear_widths(model, ignore)
    if not widths:
        raise KitError("the model has no Linear layers to quantize; pass a causal LM")
    common = math.gcd(*widths.values())
    fits = [g for g in GROUP_SIZES if common % g == 0]
    if requested is None:
        if not fits:
            raise KitError(f"no group size in {GROUP_SIZES} divides the Linear widths {sorted(set(widths.values()))}; pass --group-size explicitly")
        return fits[0]
    if requested < 1 or common % requested:
        bad = next(n for n, w in widths.items() if w % max(requested, 1) or requested < 1)
        hint = ", ".join(str(g) for g in sorted(fits)) or f"a divisor of {common}"
        raise KitError(f"group size {requested} does not divide the input width {widths[bad]} of {bad}; "
                       f"use --group-size {hint} (divisors of widths {sorted(set(widths.values()))})")
    return requested


def _verified_baseline(ref: str) -> tuple[Path, str]:
    """The baseline folder and its weights hash, checked against its record."""
    path = resolve_path(ref)
    if path is None:
        raise KitError(f"quantize needs a local baseline, not a hub id ('{ref}'); pass an alias or a folder")
    if (path / QUANT_FILE).is_file():
        raise KitError(f"{path} is already quantized; pass its baseline (see {QUANT_FILE}: baseline.ref)")
    if not any(path.glob("*.safetensors")):
        raise KitError(f"{path} has no .safetensors weights; save the model with safe_serialization=True")
    sha = sha256_dir(path)
    record = path / BASELINE_FILE
    if record.is_file() and json.loads(record.read_text()).get("weights_sha256") != sha:
        raise KitError(f"baseline {path} does not match its recorded hash; rebuild it with `kit baseline {ref} --force`")
    return path, sha


def _check_args(method: Method, bits: int | None, out: Path, baseline: Path, overwrite: bool) -> int:
    bits = method.default_bits if bits is None else bits
    if bits not in method.supported_bits:
        choices = ", ".join(str(b) for b in method.supported_bits)
        raise KitError(f"method {method.name} supports bits {choices}, not {bits}; pass --bits {method.supported_bits[0]} or pick another method")
    if out.exists() and not overwrite:
        raise KitError(f"{out} already exists; choose another --out or pass --overwrite")
    if out.resolve() == baseline.resolve():
        raise KitError(f"--out {out} is the baseline folder itself; choose another --out")
    return bits


def quantize(
    *,
    model: str,
    method: str,
    out: str | Path,
    bits: int | None = None,
    group_size: int | None = None,
    calibration: str = "stdlib-docs-calib",
    samples: int = 64,
    seq_len: int = 256,
    seed: int = 0,
    device: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> QuantResult:
    """Quantize ``model`` with ``method``; save weights, tokenizer and the config log atomically to ``out``.

    Args:
        model: the fp32 baseline: an alias (``smollm2-135m``) or a local folder.
        method: one of :data:`METHODS` (``bnb-int8``, ``bnb-nf4``, ``bnb-fp4``, ``gptq``, ``awq``, ``rtn``).
        out: the artifact folder to create.
        bits: weight bits (method default when None: 8 for bnb-int8, else 4).
        group_size: weights per scale for gptq/awq/rtn; None picks the largest that divides every width.
        calibration: calibration set (bundled name or text file) for gptq/awq.
        samples: calibration chunks.
        seq_len: tokens per chunk.
        seed: seed for choosing the chunks.
        device: where the result lives (``cpu``/``cuda``); automatic when None.
        overwrite: replace an existing ``out``.
        progress: progress bars and library logs; :func:`kit.console.progress_default` when None.
    """
    from transformers import AutoTokenizer

    adapter = get_method(method)
    out = Path(out).expanduser()
    base_path, base_sha = _verified_baseline(model)
    bits = _check_args(adapter, bits, out, base_path, overwrite)
    if group_size is not None and not adapter.grouped:
        raise KitError(f"method {adapter.name} has no user group size (bitsandbytes fixes it); drop --group-size")
    group_size = default_group_size(base_path, group_size, ignore=adapter.ignore) if adapter.grouped else None
    device = device or default_device()
    progress = progress_default() if progress is None else progress
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    cal = (calibration_chunks(name=calibration, tokenizer=tokenizer, samples=samples, seq_len=seq_len, seed=seed)
           if adapter.calibrated else None)
    request = Request(baseline=base_path, bits=bits, group_size=group_size, calibration=cal,
                      device=device, progress=progress)

    with peak_memory(device) as memory, hf_progress(progress):
        started = time.perf_counter()
        quantized = adapter.quantize(request)
        seconds = time.perf_counter() - started
    notes = adapter.runtime_notes(quantized)
    config: dict[str, Any] = {
        "schema": SCHEMA,
        "method": adapter.name,
        "summary": adapter.summary,
        "library": adapter.library,
        "bits": bits,
        "group_size": group_size if adapter.grouped else notes.get("block_size"),
        **adapter.settings(bits=bits, group_size=group_size),
        "resolved_weights": notes.get("resolved_weights"),
        "quantized_modules": notes.get("quantized_modules"),
        "shims": notes.get("shims", []),
        "calibration": cal.record() if cal else None,
        "baseline": {"ref": model, "path": str(base_path), "sha256": base_sha},
        "quantize_seconds": round(seconds, 2),
        "peak_memory": memory,
        "device": device,
        "environment": describe_environment(device=device),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with atomic_dir(out, overwrite=overwrite) as tmp, hf_progress(progress):
        adapter.save(quantized, tmp)
        tokenizer.save_pretrained(tmp)
        config["weights_sha256"] = sha256_dir(tmp)
        config["weight_bytes"] = int(quantized.get_memory_footprint())  # as stored (compressed in place)
        atomic_write_json(tmp / QUANT_FILE, config)  # written last: its presence marks a finished artifact
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device != "cpu" and adapter.library != "bitsandbytes":
        quantized.to(device)
    loaded = LoadedModel(model=quantized, tokenizer=tokenizer, ref=str(out), path=out,
                         sha256=config["weights_sha256"], device=device, quantization=config)
    return QuantResult(path=out, config=config, model=loaded)
