"""A fix as a `kit quantize` recipe: its kind, spec and command; applying it re-quantizes, re-gates, registers.

A fix is one of :data:`FIX_KINDS`: an ignore list (modules kept in full precision, found by
bisection), the baseline's tokenizer files, another scheme (bits, group size, method), another
calibration text, or more calibration samples.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["FIX_KINDS", "apply_fix", "fix_command", "fix_kind", "fix_spec", "make_fix"]

#: What a fix can change, and the ``kit quantize`` / artifact change each one is.
FIX_KINDS = {
    "ignore": "keep the named modules in full precision (`--ignore`); the list comes from bisection with the gate",
    "tokenizer": "ship the baseline's tokenizer files (tokenizer_config.json, chat template) with the artifact",
    "scheme": "quantize again with another scheme: bits, group size and/or method (the sanctioned one)",
    "calibration": "quantize again calibrated on another text (`--calibration NAME`)",
    "samples": "quantize again with more calibration chunks (`--samples N`)",
}
_SCHEME = ("method", "bits", "group_size")


def fix_kind(fix: dict[str, Any]) -> str:
    """The kind (one of :data:`FIX_KINDS`) of a fix dict such as a planted regression's documented fix.

    Args:
        fix: ``{"ignore": [...]}``, ``{"tokenizer": "baseline"}``, ``{"bits": 8, "group_size": 64}``, ...
    """
    for kind in ("ignore", "tokenizer", "calibration", "samples"):
        if kind in fix:
            return kind
    if any(k in fix for k in _SCHEME):
        return "scheme"
    raise KitError(f"not a fix: {fix!r}; a fix changes one of {', '.join(FIX_KINDS)}")


def make_fix(*, kind: str, value: Any = None) -> dict[str, Any]:
    """The fix dict of a chosen kind, checked before anything is quantized.

    Args:
        kind: one of :data:`FIX_KINDS`.
        value: ignore: module names (a list or comma-separated); scheme: a dict of ``method``/``bits``/
            ``group_size``; calibration: a calibration set's name; samples: a chunk count; tokenizer: unused.
    """
    from kit.eval.sets import bundled_sets

    if kind not in FIX_KINDS:
        raise KitError(f"fix kind must be one of {', '.join(FIX_KINDS)}, got {kind!r}")
    if kind == "tokenizer":
        return {"tokenizer": "baseline"}
    if kind == "ignore":
        names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value or []) if n.strip()]
        if not names:
            raise KitError("an ignore fix needs module names, e.g. ['model.layers.2'] (bisection finds them)")
        return {"ignore": names}
    if kind == "scheme":
        if not isinstance(value, dict) or not value or any(k not in _SCHEME for k in value):
            raise KitError(f"a scheme fix is a dict of {', '.join(_SCHEME)}, e.g. {{'bits': 8, 'group_size': 64}}; "
                           f"got {value!r}")
        return dict(value)
    if kind == "calibration":
        sets = bundled_sets("calibration")
        if value not in sets:
            raise KitError(f"calibration must be one of the bundled calibration sets {', '.join(sets)}, got {value!r}")
        return {"calibration": value}
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise KitError(f"samples must be a positive whole number of calibration chunks, got {value!r}")
    return {"samples": value}


def fix_spec(*, config: dict[str, Any], ignore: Sequence[str] = (), change: dict[str, Any] | None = None) -> dict[str, Any]:
    """The candidate's recipe (from its configuration log) with a fix: what ``QuantSpec``/``kit quantize`` take.

    Args:
        config: the candidate's ``kit-quantization.json``.
        ignore: modules to keep in full precision.
        change: a scheme, calibration or samples fix (:func:`make_fix`) applied to the recipe.
    """
    if not config.get("method"):
        raise KitError("the candidate has no configuration log (kit-quantization.json); the fix needs its recipe")
    change = change or {}
    cal = dict(config.get("calibration") or {})
    cal.update({"name": change["calibration"]} if "calibration" in change else {})
    cal.update({"samples": change["samples"]} if "samples" in change else {})
    return {"model": (config.get("baseline") or {}).get("ref"), "method": change.get("method", config["method"]),
            "bits": change.get("bits", config.get("bits")), "group_size": change.get("group_size", config.get("group_size")),
            "ignore": list(ignore),
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
    for key, flag in (("name", "--calibration"), ("samples", "--samples"), ("seq_len", "--seq-len"), ("seed", "--seed")):
        if (cal or {}).get(key) is not None:
            args += [flag, str(cal[key])]
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
