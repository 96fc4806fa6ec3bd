"""A bisected ignore list as a `kit quantize` recipe: its spec and command; applying it re-quantizes, re-gates, registers."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["apply_fix", "fix_command", "fix_spec"]


def fix_spec(*, config: dict[str, Any], ignore: list[str]) -> dict[str, Any]:
    """The candidate's recipe (from its configuration log) with ``ignore`` added: what ``QuantSpec``/``kit quantize`` take.

    Args:
        config: the candidate's ``kit-quantization.json``.
        ignore: modules to keep in full precision.
    """
    if not config.get("method"):
        raise KitError("the candidate has no configuration log (kit-quantization.json); the fix needs its recipe")
    cal = config.get("calibration") or None
    return {"model": (config.get("baseline") or {}).get("ref"), "method": config["method"], "bits": config.get("bits"),
            "group_size": config.get("group_size"), "ignore": list(ignore),
            "calibration": ({k: cal[k] for k in ("name", "samples", "seq_len", "seed") if k in cal} if cal else None)}


def fix_command(spec: dict[str, Any], *, out: str) -> str:
    """The ``kit quantize`` command line for a fix spec.

    Args:
        spec: from :func:`fix_spec`.
        out: the artifact folder to create.
    """
    args = ["kit", "quantize", "--model", str(spec["model"]), "--method", spec["method"]]
    if spec.get("bits"):
        args += ["--bits", str(spec["bits"])]
    if spec.get("group_size"):
        args += ["--group-size", str(spec["group_size"])]
    cal = spec.get("calibration")
    if cal:
        args += ["--calibration", str(cal["name"]), "--samples", str(cal["samples"]), "--seq-len", str(cal["seq_len"]),
                 "--seed", str(cal["seed"])]
    if spec.get("ignore"):
        args += ["--ignore", ",".join(spec["ignore"])]
    return shlex.join(args + ["--out", out])


def apply_fix(*, spec: dict[str, Any], out: str | Path, oracle: Any, registry: Any = None, overwrite: bool = False,
              progress: bool = False) -> dict[str, Any]:
    """Quantize the fix for real, gate it with ``oracle`` and register it (when a registry is given).

    Args:
        spec: from :func:`fix_spec`.
        out: artifact folder to create.
        oracle: a :class:`~kit.debug.oracle.GateOracle` (its baseline records are reused).
        registry: an open :class:`~kit.govern.registry.Registry`, or None.
        overwrite: replace ``out``.
        progress: progress bars.
    """
    from kit.debug.regressions import load_candidate
    from kit.quant.quantize import quantize
    from kit.quant.spec import CalibrationSpec, QuantSpec

    cal = CalibrationSpec(**spec["calibration"]) if spec.get("calibration") else CalibrationSpec()
    result = quantize(model=spec["model"], out=out, overwrite=overwrite, progress=progress,
                      spec=QuantSpec(method=spec["method"], bits=spec.get("bits"), group_size=spec.get("group_size"),
                                     calibration=cal, ignore=tuple(spec.get("ignore") or ())))
    candidate = load_candidate(result.path, device=oracle.baseline.device)
    verdict = oracle(candidate)
    entry = None
    if registry is not None:
        entry = registry.add(baseline=oracle.baseline_records, candidate=oracle.last_records, verdict=verdict,
                             quant_config=result.config)
    return {"path": str(result.path), "verdict": verdict, "entry_id": entry.id if entry else None,
            "weight_bytes": result.config.get("weight_bytes")}
