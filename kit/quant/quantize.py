"""The one quantization entry point: baseline + method → saved artifact + configuration log.

``quantize(model="smollm2-135m", method="gptq", out="runs/gptq")`` verifies the hashed fp32
baseline, checks the request against the model's layout (:mod:`kit.quant.layout`: group sizes,
ignore lists, architecture; those names stay importable from here), draws the calibration chunks,
runs the method's adapter (:mod:`kit.quant.methods`), and writes weights, tokenizer and
``kit-quantization.json`` into a temp folder that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import time
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.console import hf_progress, progress_default
from kit.environment import describe_environment
from kit.errors import KitError
from kit.eval.timing import peak_memory
from kit.io import atomic_dir, atomic_write_json, check_replaceable, writer_lock
from kit.model_files import ARTIFACT_KIND, manifest, verify_folder, weights_sha256
from kit.models import QUANT_FILE, LoadedModel, check_device, resolve_path
from kit.quant.calibration import calibration_chunks
from kit.quant.layout import GROUP_SIZES, check_architecture, default_group_size, ignored_linears
from kit.quant.methods import METHODS, Method, Request
from kit.quant.shapes import QuantLog
from kit.quant.spec import QuantSpec

__all__ = ["GROUP_SIZES", "METHODS", "SCHEMA", "SPEC_FIELDS", "QuantResult", "check_architecture", "default_group_size",
           "get_method", "quantize"]

SCHEMA = "kit.quantization/1"


@dataclasses.dataclass
class QuantResult:
    """A finished quantization: where it was saved, its log, and the in-memory model."""

    path: Path
    config: QuantLog
    model: LoadedModel


def get_method(name: str) -> Method:
    """The adapter for ``name``.

    Args:
        name: a key of :data:`METHODS`.
    """
    if name not in METHODS:
        raise KitError(f"unknown method '{name}'; choose one of: {', '.join(METHODS)}")
    return METHODS[name]


def _verified_baseline(ref: str) -> tuple[Path, str]:
    """The baseline folder and its weights hash, checked against its record."""
    path = resolve_path(ref)
    if path is None:
        raise KitError(f"quantize needs a local baseline, not a hub id ('{ref}'); pass an alias or a folder")
    if (path / QUANT_FILE).is_file():
        raise KitError(f"{path} is already quantized; pass its baseline (see {QUANT_FILE}: baseline.ref)")
    if not any(path.glob("*.safetensors")):
        raise KitError(f"{path} has no .safetensors weights; save the model with safe_serialization=True")
    sha, _, _ = verify_folder(path)  # every file against the baseline's manifest (kit.model_files)
    if sha is None:  # unreachable after the glob above; keeps the type honest
        raise KitError(f"{path} has no .safetensors weights; save the model with safe_serialization=True")
    return path, sha


def _check_args(method: Method, bits: int | None, out: Path, baseline: Path, overwrite: bool) -> int:
    bits = method.default_bits if bits is None else bits
    if bits not in method.supported_bits:
        choices = ", ".join(str(b) for b in method.supported_bits)
        raise KitError(f"method {method.name} supports bits {choices}, not {bits}; "
                       f"pass --bits {method.supported_bits[0]} or pick another method")
    if out.exists() and not overwrite:
        raise KitError(f"{out} already exists; choose another --out or pass --overwrite")
    if out.resolve() == baseline.resolve() or out.resolve() in baseline.resolve().parents:
        raise KitError(f"--out {out} is the baseline folder itself or holds it; choose another --out")
    if out.exists() or out.is_symlink():
        check_replaceable(out, marker=QUANT_FILE, kind=ARTIFACT_KIND)  # --overwrite replaces only a kit artifact
    return bits


def _one_writer(fn: Any) -> Any:
    """Hold ``out``'s writer lock for the whole run, so a second run into the same ``out`` fails at once."""

    @functools.wraps(fn)
    def locked(*, out: str | Path, **kwargs: Any) -> QuantResult:
        from kit.console import stage

        with writer_lock(Path(out).expanduser()) as cleaned:
            for partial in cleaned:
                stage("cleanup", f"removed {partial}, left by an interrupted run")
            return fn(out=out, **kwargs)

    return locked


#: The loose spelling of a spec: :meth:`QuantSpec.build`'s keywords, also accepted by :func:`quantize`.
SPEC_FIELDS = tuple(p for p in inspect.signature(QuantSpec.build).parameters if p != "cls")


def _spec(spec: QuantSpec | None, loose: dict[str, Any]) -> QuantSpec:
    """``spec``, or one built from the loose keyword values (:data:`SPEC_FIELDS`); refuse both at once."""
    unknown = [k for k in loose if k not in SPEC_FIELDS]
    if unknown:
        raise TypeError(f"quantize() got an unexpected keyword argument '{unknown[0]}'")
    given = [k for k, v in loose.items() if v is not None]
    if spec is not None:
        if given:
            raise KitError(f"pass either spec= or {', '.join(given)}=, not both; put them into the QuantSpec")
        return spec
    if loose.get("method") is None:
        raise KitError("quantize needs a method: pass spec=QuantSpec(method=...) or method=...")
    return QuantSpec.build(**loose)


@_one_writer
def quantize(
    *,
    model: str,
    out: str | Path,
    spec: QuantSpec | None = None,
    device: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    **loose: Any,
) -> QuantResult:
    """Quantize ``model`` as ``spec`` says; save weights, tokenizer and the config log atomically to ``out``.

    Give either ``spec`` or the loose values ``method``, ``bits``, ... (:data:`SPEC_FIELDS`, built into a
    :class:`~kit.quant.spec.QuantSpec` by :meth:`~kit.quant.spec.QuantSpec.build`; each None takes the
    default of the spec).

    Args:
        model: the fp32 baseline: an alias (``smollm2-135m``) or a local folder.
        out: the artifact folder to create.
        spec: method, bits, group size and calibration.
        device: where the result lives (``cpu``/``cuda``); automatic when None.
        overwrite: replace an existing ``out``.
        progress: progress bars and library logs; :func:`kit.console.progress_default` when None.
        **loose: instead of ``spec``, its fields by name: ``method`` (one of :data:`METHODS`), ``bits``
            (method default when None: 8 for bnb-int8, else 4), ``group_size`` (gptq/awq/rtn; None picks the
            largest that divides every width), ``calibration`` (a :class:`~kit.quant.spec.CalibrationSpec` or a
            set name/path), ``samples``, ``seq_len``, ``seed``, ``ignore`` (modules kept in full precision
            besides lm_head: names, block prefixes, ``re:``; gptq/awq/rtn only).
    """
    from transformers import AutoTokenizer

    spec = _spec(spec, loose)
    adapter = get_method(spec.method)
    bits, group_size, cal_spec = spec.bits, spec.group_size, spec.calibration
    out = Path(out).expanduser()
    base_path, base_sha = _verified_baseline(model)
    bits = _check_args(adapter, bits, out, base_path, overwrite)
    check_architecture(method=adapter, baseline=base_path)
    if group_size is not None and not adapter.grouped:
        raise KitError(f"method {adapter.name} has no user group size ({adapter.granularity}); drop --group-size")
    if spec.ignore and not adapter.takes_overrides:
        raise KitError(f"method {adapter.name} takes no ignore list; use gptq, awq or rtn with --ignore")
    if spec.scheme and not adapter.takes_overrides:
        raise KitError(f"method {adapter.name} has a fixed scheme (bitsandbytes); scheme overrides are for gptq, awq, rtn")
    ignored = tuple(ignored_linears(base_path, spec.ignore)) if spec.ignore else ()
    overrides = dict(spec.scheme)
    per_channel = bool(overrides.get("per_channel"))  # one scale per output row: no group size
    if per_channel and group_size is not None:
        raise KitError("scheme per_channel keeps one scale per output row; drop the group size")
    group_size = (default_group_size(base_path, group_size, ignore=(*adapter.ignore, *ignored))
                  if adapter.grouped and not per_channel else None)
    if overrides:
        adapter.settings(bits=bits, group_size=group_size, overrides=overrides)  # an unknown field fails here, before work
    device = check_device(device)
    progress = progress_default() if progress is None else progress
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    cal = (calibration_chunks(name=cal_spec.name, tokenizer=tokenizer, samples=cal_spec.samples,
                              seq_len=cal_spec.seq_len, seed=cal_spec.seed) if adapter.calibrated else None)
    request = Request(baseline=base_path, bits=bits, group_size=group_size, calibration=cal,
                      device=device, progress=progress, ignore=ignored, scheme=overrides)

    with peak_memory(device) as memory, hf_progress(progress):
        started = time.perf_counter()
        quantized = adapter.quantize(request)
        seconds = time.perf_counter() - started
    notes = adapter.runtime_notes(quantized)
    config: QuantLog = {
        "schema": SCHEMA,
        "method": adapter.name,
        "summary": adapter.summary,
        "library": adapter.library,
        "bits": bits,
        "group_size": group_size if adapter.grouped else notes.get("block_size"),
        **adapter.settings(bits=bits, group_size=group_size, overrides=overrides),
        "ignore": [*adapter.ignore, *ignored],  # what stayed in full precision (--ignore expanded to names)
        "resolved_weights": notes.get("resolved_weights"),
        "quantized_modules": notes.get("quantized_modules"),
        "shims": notes.get("shims", []),
        "calibration": cal.record() if cal else None,
        "baseline": {"ref": model, "path": str(base_path), "sha256": base_sha},
        "quantize_seconds": round(seconds, 2),
        "peak_memory": memory,
        "device": device,
        "environment": describe_environment(device=device),
        "created_at": utc_now(),
        "spec": spec.to_dict(),
    }
    if spec.template_of:
        config["template_of"] = spec.template_of
    if notes.get("tuning_measured") and config.get("tuning"):
        config["tuning"] = {**config["tuning"], "measured": notes["tuning_measured"]}
    with atomic_dir(out, overwrite=overwrite, marker=QUANT_FILE, kind=ARTIFACT_KIND) as tmp, hf_progress(progress):
        adapter.save(quantized, tmp)
        tokenizer.save_pretrained(tmp)
        config["files"] = manifest(tmp)  # every file but the log, verified on load (kit.model_files)
        config["weights_sha256"] = weights_sha256(config["files"])
        config["weight_bytes"] = int(quantized.get_memory_footprint())  # as stored (compressed in place)
        atomic_write_json(tmp / QUANT_FILE, config)  # written last: its presence marks a finished artifact
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device != "cpu" and not adapter.placed_on_load:
        quantized.to(device)
    loaded = LoadedModel(model=quantized, tokenizer=tokenizer, ref=str(out), path=out,
                         sha256=config["weights_sha256"], device=device, quantization=dict(config))
    return QuantResult(path=out, config=config, model=loaded)
