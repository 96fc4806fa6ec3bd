"""The pilot as a template: a validated entry's recipe, replayed on another baseline or printed as commands.

``kit pilot --model NAME --like ENTRY_ID`` quantizes a new baseline the way a passing entry
was quantized (method, bits, group size or the rule that chose it, scheme, calibration set,
ignore list, use case) and records ``template_of`` in the config log and the registry entry;
``kit registry recipe ENTRY_ID`` prints the same recipe as the commands a person would type.
"""

from __future__ import annotations

import shlex
from typing import Any

from kit.console import stage
from kit.errors import KitError
from kit.govern.policy import UseCasePolicy
from kit.govern.registry import Entry, Registry
from kit.quant.layout import GROUP_SIZES
from kit.quant.methods import METHODS
from kit.quant.spec import CalibrationSpec, QuantSpec

__all__ = ["recipe_commands", "recipe_of", "template_plan", "validated_template", "warn_unreviewed"]


def recipe_of(entry: Entry) -> dict[str, Any]:
    """What an entry was quantized with, as asked (``spec`` in its config log; older logs: the values it resolved).

    Args:
        entry: a registry entry.
    """
    config = entry.quant_config or {}
    spec = config.get("spec")
    if isinstance(spec, dict):
        method, bits, group_size = spec["method"], spec.get("bits") or entry.bits, spec.get("group_size")
        ignore, scheme, cal = list(spec.get("ignore") or []), dict(spec.get("scheme") or {}), spec.get("calibration")
    else:  # logged before the spec was: the resolved values (lm_head is the method's own, not the user's)
        method, bits, group_size = entry.method, entry.bits, config.get("group_size")
        ignore = [n for n in config.get("ignore") or [] if n != "lm_head"]
        scheme = dict(((config.get("scheme") or {}).get("deviation_from_sanctioned")) or {})
        record = config.get("calibration") or {}
        cal = {k: record[k] for k in ("name", "samples", "seq_len", "seed") if k in record} or None
    calibrated = method in METHODS and METHODS[method].calibrated
    chosen = config.get("group_size")
    return {"entry": entry.id, "baseline": entry.baseline_ref, "use_case": entry.use_case, "method": method,
            "bits": bits, "group_size": group_size if isinstance(group_size, int) else None,
            "group_size_chosen": chosen if isinstance(chosen, int) else None, "scheme": scheme,
            "ignore": ignore, "calibration": cal if calibrated else None, "reason": entry.reason,
            "template_of": config.get("template_of")}


def validated_template(*, entry_id: str, registry: Registry | str | None) -> Entry:
    """The entry ``entry_id`` if its latest validation passed (a template must be a validated pilot), else an error.

    Args:
        entry_id: the entry id (or unique prefix).
        registry: a Registry, its path/URL, or None for the default registry.
    """
    reg = registry if isinstance(registry, Registry) else Registry.open(registry)
    try:
        entry = reg.get(entry_id)
        latest = reg.validations(entry.id)[-1]
    finally:
        if reg is not registry:
            reg.close()
    if latest.decision != "pass":
        raise KitError(f"entry {entry.id} {latest.outcome()}; --like replays only a validated pilot: pick a passing "
                       "entry from `kit registry list`")
    return entry


def template_plan(*, entry: Entry, use_case: str | None, candidates: Any, reason: str | None
                  ) -> tuple[str, list[QuantSpec], str | None]:
    """(use case, candidate specs, reason) that replay ``entry``'s recipe; refuses flags that would change it.

    Args:
        entry: the validated template (from :func:`validated_template`).
        use_case: the use case asked for (None: the template's).
        candidates: what else was asked to try (must be None with a template).
        reason: the reason given (None: the template's own reason, when it deviated).
    """
    if use_case not in (None, entry.use_case):
        raise KitError(f"entry {entry.id} was validated for {entry.use_case}, not {use_case}; drop --use-case "
                       "(the template's use case is replayed) or pick an entry of that use case")
    if candidates:
        raise KitError("--like replays the entry's recipe; drop --methods/--bits/--group-size (or leave out --like)")
    r = recipe_of(entry)
    cal = CalibrationSpec.build(**r["calibration"]) if r["calibration"] else CalibrationSpec()
    spec = QuantSpec(method=r["method"], bits=r["bits"], group_size=r["group_size"], calibration=cal,
                     ignore=tuple(r["ignore"]), scheme=tuple(sorted(r["scheme"].items())), template_of=entry.id)
    return entry.use_case, [spec], reason or entry.reason


def recipe_commands(entry: Entry, *, model: str = "NEW-BASELINE") -> list[str]:
    """The recipe as the commands a person would type: the quantization itself, then the templated pilot.

    Args:
        entry: a registry entry.
        model: the baseline the pilot would replay it on.
    """
    r = recipe_of(entry)
    quant = ["kit", "quantize", "--model", str(r["baseline"]), "--method", r["method"]]
    quant += ["--bits", str(r["bits"])] if r["bits"] else []
    quant += ["--group-size", str(r["group_size"])] if r["group_size"] else []
    cal = r["calibration"]
    if cal:
        quant += ["--calibration", str(cal["name"]), "--samples", str(cal["samples"]), "--seq-len",
                  str(cal["seq_len"]), "--seed", str(cal["seed"])]
    quant += ["--ignore", ",".join(r["ignore"])] if r["ignore"] else []
    shape = f"{r['method']} {r['bits']}-bit" if r["bits"] else r["method"]
    followed = f", itself following entry {r['template_of']}" if r["template_of"] else ""
    lines = [f"# entry {entry.id}: {shape} of {r['baseline']} for {r['use_case']}{followed}",
             shlex.join(quant + ["--out", f"runs/{r['method']}"])]
    if not r["group_size"] and r["group_size_chosen"]:
        sizes = "/".join(map(str, GROUP_SIZES))
        lines.append(f"# group size: the automatic rule (largest of {sizes} dividing every width) chose "
                     f"{r['group_size_chosen']} here; add --group-size {r['group_size_chosen']} to pin it")
    if r["scheme"]:
        lines.append(f"# scheme overrides (QuantSpec(scheme=...); no CLI flag): {r['scheme']}")
    lines += [f"# replay the whole validated pilot on another baseline ({r['use_case']}, same recipe):",
              shlex.join(["kit", "pilot", "--model", model, "--like", entry.id])]
    return lines


def warn_unreviewed(*, policy: UseCasePolicy, model: str) -> None:
    """A stage line when ``model`` is not the embedded model and its team has not reviewed the use case's limits for it.

    Args:
        policy: the use case being piloted.
        model: the baseline piloted.
    """
    from kit.models import ALIASES

    if model in ALIASES or model in policy.reviewed_for:
        return
    stage("policy", f"the limits of {policy.name} were set on the embedded model ({', '.join(sorted(ALIASES))}), "
                    f"not on {model}: review them for it, then list it under use_cases.{policy.name}.reviewed_for "
                    f"in {policy.source or 'the policy file'}")
