"""Compare quantization methods on one model: accuracy deltas, weight memory, latency, throughput.

Each method is quantized once, saved, and evaluated **as reloaded from disk** (what a user
deploys), against the fp32 baseline on the same sets and protocol.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.console import progress_default, stage
from kit.errors import KitError
from kit.eval.harness import Protocol, evaluate
from kit.eval.record import as_record
from kit.eval.tables import format_table
from kit.models import LoadedModel, load_model
from kit.quant.methods import COMPARE_DEFAULT
from kit.quant.quantize import get_method, quantize
from kit.quant.shapes import CompareEntry, CompareRow, QuantLog
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

__all__ = ["DEFAULT_METHODS", "compare", "compare_rows", "format_compare"]

DEFAULT_METHODS = COMPARE_DEFAULT
_MIB = 1024 * 1024


def _stored_bytes(path: Path | None) -> int | None:
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) if path else None


def _headline(records: list[dict[str, Any]]) -> str:
    heads = [(r["eval_set"]["name"], as_record(r).primary_metric()) for r in records]
    return ", ".join(f"{name} {m.label} {m.value:.4g}" for name, m in heads)


def _specs(methods: Sequence[QuantSpec | str], bits: int | None, group_size: int | None,
           calibration: CalibrationSpec) -> list[QuantSpec]:
    """One spec per method: a given spec as is; a name gets ``bits`` where supported and ``group_size`` where grouped."""
    specs = []
    for m in methods:
        if isinstance(m, QuantSpec):
            specs.append(m)
            continue
        info = get_method(m)  # unknown names fail before any work
        specs.append(QuantSpec(method=m, bits=bits if bits in info.supported_bits else None,
                               group_size=group_size if info.grouped else None, calibration=calibration))
    return specs


def _entry(name: str, loaded: LoadedModel, records: list[dict[str, Any]], config: QuantLog | None) -> CompareEntry:
    return {"method": name, "path": str(loaded.path) if loaded.path else None, "sha256": loaded.sha256,
            "bits": config.get("bits") if config else None, "group_size": config.get("group_size") if config else None,
            "calibration": (config.get("calibration") or {}).get("name") if config else None,
            "quantize_seconds": config.get("quantize_seconds") if config else None,
            "stored_weight_bytes": _stored_bytes(loaded.path), "records": records}


def compare(
    *,
    model: str,
    eval_sets: Sequence[str],
    methods: Sequence[QuantSpec | str] = DEFAULT_METHODS,
    out_dir: str | Path | None = None,
    protocol: Protocol | None = None,
    bits: int | None = None,
    group_size: int | None = None,
    calibration: CalibrationSpec = DEFAULT_CALIBRATION,
    device: str | None = None,
    measure_speed: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> list[CompareEntry]:
    """Quantize ``model`` with each method, reload each artifact, evaluate all on ``eval_sets``.

    Returns a JSON-ready list: the baseline first, then one entry per method, each with its
    harness records and a ``rows`` summary (deltas and ratios vs the baseline).

    Args:
        model: the fp32 baseline (alias or folder).
        eval_sets: set names or paths, evaluated in order.
        methods: method names (see :data:`kit.quant.methods.METHODS`) or full :class:`QuantSpec` s.
        out_dir: where artifacts go (``out_dir/<method>``); a temp folder removed afterwards when None.
        protocol: scoring settings shared by every evaluation.
        bits: weight bits for every named method that supports them (method default when None).
        group_size: group size for the grouped named methods (automatic when None).
        calibration: calibration for the calibrated named methods (gptq, awq).
        device: ``cpu``/``cuda``; automatic when None.
        measure_speed: measure latency and throughput too.
        overwrite: replace existing ``out_dir/<method>`` folders.
        progress: progress bars (default: terminal/notebook detection).
    """
    if not eval_sets:
        raise KitError("compare needs at least one evaluation set; pass --eval NAME")
    specs = _specs(methods, bits, group_size, calibration)
    names = [s.method for s in specs]
    if len(set(names)) != len(names):
        raise KitError(f"each method once, please (artifacts go to <out_dir>/<method>); got {', '.join(names)}")
    progress = progress_default() if progress is None else progress
    protocol = protocol or Protocol()
    scratch = tempfile.TemporaryDirectory(prefix="kit-compare-") if out_dir is None else None
    root = Path(scratch.name if scratch else out_dir)  # type: ignore[arg-type]
    entries: list[CompareEntry] = []
    try:
        base = load_model(model, device=device)
        base_records = [evaluate(model=base, eval_set=s, protocol=protocol, measure_speed=measure_speed,
                                 progress=progress) for s in eval_sets]
        entries.append(_entry("baseline", base, base_records, None))
        stage("baseline", f"{model}: {_headline(base_records)}")
        for spec in specs:
            name = spec.method
            q = quantize(model=model, spec=spec, out=root / name, device=base.device, overwrite=overwrite,
                         progress=progress)
            config, path = q.config, q.path
            del q
            gc.collect()
            loaded = load_model(str(path), device=base.device)  # evaluate what was saved
            records = [evaluate(model=loaded, eval_set=s, baseline=base, protocol=protocol,
                                measure_speed=measure_speed, progress=progress) for s in eval_sets]
            entries.append(_entry(name, loaded, records, config))
            stage("compare", f"{name}: quantized in {config['quantize_seconds']:.1f} s; {_headline(records)}")
            del loaded
            gc.collect()
    finally:
        if scratch is not None:
            scratch.cleanup()
            for e in entries[1:]:
                e["path"] = None  # removed with the temp folder
    for entry in entries:
        entry["rows"] = compare_rows(entry, entries[0])
    return entries


def compare_rows(entry: CompareEntry, baseline: CompareEntry) -> list[CompareRow]:
    """One flat row per set: value, delta vs baseline, agreement, weight-memory ratios, latency, throughput.

    Args:
        entry: an entry of :func:`compare` (a method or the baseline itself).
        baseline: the baseline entry.
    """
    rows: list[CompareRow] = []
    for rec, ref in zip(entry["records"], baseline["records"]):
        primary = as_record(rec).primary_metric()
        metric, value, ref_value = primary.label, primary.value, as_record(ref).primary_metric().value
        lat, thr, agr = rec.get("latency") or {}, rec.get("throughput") or {}, rec.get("agreement") or {}
        stored, ref_stored = entry["stored_weight_bytes"], baseline["stored_weight_bytes"]
        rows.append({
            "method": entry["method"], "set": rec["eval_set"]["name"], "metric": metric, "value": round(value, 4),
            "delta": round(value - ref_value, 4), "delta_pct": round(100 * (value - ref_value) / ref_value, 2),
            "top1_agree": None if not agr else round(agr["top1"], 4),
            "stored_MiB": None if stored is None else round(stored / _MIB, 1),
            "stored_ratio": None if not (stored and ref_stored) else round(stored / ref_stored, 3),
            "runtime_ratio": round(rec["memory"]["weight_bytes"] / ref["memory"]["weight_bytes"], 3),
            "prefill_ms": None if not lat else round(lat["prefill_ms"], 1),
            "decode_ms_p50": None if not lat else round(lat["decode_ms_p50"], 1),
            "decode_tok_s": None if not thr.get("decode_tokens_per_s") else round(thr["decode_tokens_per_s"], 1),
        })
    return rows


def format_compare(entries: Sequence[CompareEntry]) -> str:
    """The comparison as one text table (rows of every entry).

    Args:
        entries: the list :func:`compare` returned.
    """
    return format_table([dict(row) for e in entries for row in e.get("rows", [])])
