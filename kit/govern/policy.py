"""Tolerance policies: read and validate the policy file into per-use-case values.

The reviewed file is ``policies/tolerances.yaml`` (override with ``$KIT_POLICIES`` or a
``path=`` argument). Each use case becomes a :class:`UseCasePolicy` with its
:class:`MetricLimit` s and :class:`NoisePolicy` (:mod:`kit.govern.use_case`, where the
meaning of a limit is written down; the values stay importable from here). A limit a set
of its size cannot resolve is refused when the file loads (:func:`check_resolution`).

Sanctioned defaults per serving target: ``default_method`` is the team's standard (the GPU
default); a use case may add ``serving_defaults`` with a ``cpu`` (or ``gpu``) entry naming the
method, the engine it serves on and the recorded reason. A file without it still loads: then
every target uses ``default_method``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from kit._bundled import bundled_path
from kit.errors import KitError, names, nearest
from kit.eval.record import METRICS, MetricSpec
from kit.govern.serving_defaults import SERVING_TARGETS, ServingDefault, parse_serving_defaults, serving_default
from kit.govern.use_case import MetricLimit, NoisePolicy, UseCasePolicy
from kit.quant.methods import METHOD_NAMES

__all__ = [
    "METHODS",
    "METRICS",
    "MetricLimit",
    "MetricSpec",
    "NoisePolicy",
    "SERVING_TARGETS",
    "ServingDefault",
    "UseCasePolicy",
    "check_resolution",
    "get_policy",
    "load_policies",
    "parse_use_case",
    "policy_path",
    "require_reason",
    "serving_default",
]

#: Quantization methods a policy may name: the method table's names (:data:`kit.quant.methods.METHOD_NAMES`).
METHODS = METHOD_NAMES


def policy_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The policy file: ``path``, else ``$KIT_POLICIES``, else the bundled ``policies/tolerances.yaml``.

    Args:
        path: explicit override.
    """
    chosen = path or os.environ.get("KIT_POLICIES")
    return Path(chosen).expanduser() if chosen else bundled_path("policies", "tolerances.yaml")


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise KitError(f"{where}: {message}")


def _number(value: Any, where: str, *, integer: bool = False, positive: bool = False) -> Any:
    ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    _need(ok and (value > 0 if positive else value >= 0), where,
          f"expected a {'positive' if positive else 'non-negative'} {'integer' if integer else 'number'}, got {value!r}")
    return value


def _metric(name: str, raw: Any, eval_sets: tuple[str, ...], where: str) -> MetricLimit:
    where = f"{where}.metrics.{name}"
    _need(name in METRICS, where, f"unknown metric; use one of {', '.join(METRICS)}")
    _need(isinstance(raw, dict), where, "expected a mapping with eval_set, direction, limit, min_samples")
    spec = METRICS[name]
    unknown = set(raw) - {"eval_set", "direction", "limit", "min_samples"}
    _need(not unknown, where,
          f"unknown key(s) {names(unknown)}; allowed: eval_set, direction, limit, min_samples")
    _need(raw.get("eval_set") in eval_sets, where,
          f"eval_set {raw.get('eval_set')!r} must be one of this use case's eval_sets {list(eval_sets)}")
    _need(raw.get("direction") == spec.direction, where,
          f"direction must be '{spec.direction}' ({spec.direction} is better for {name}), got {raw.get('direction')!r}")
    limit = raw.get("limit")
    _need(isinstance(limit, dict) and set(limit) == {"kind", "value"}, where + ".limit",
          "expected {kind: absolute|relative, value: N}")
    _need(limit["kind"] in ("absolute", "relative"), where + ".limit.kind",
          f"expected 'absolute' or 'relative', got {limit['kind']!r}")
    _need(not (spec.ideal is not None and limit["kind"] == "relative"), where + ".limit.kind",
          f"{name} is compared to its ideal {spec.ideal}, so its limit must be 'absolute'")
    value = _number(limit["value"], where + ".limit.value")
    _need(value <= 1 or limit["kind"] == "absolute", where + ".limit.value",
          f"a relative limit is a fraction (0.10 = 10%), got {value}")
    min_samples = _number(raw.get("min_samples"), where + ".min_samples", integer=True, positive=True)
    return MetricLimit(metric=name, eval_set=raw["eval_set"], direction=spec.direction, limit_kind=limit["kind"],
                       limit=float(value), min_samples=min_samples)


def _noise(raw: Any, where: str) -> NoisePolicy:
    if raw is None:
        return NoisePolicy()
    _need(isinstance(raw, dict), where, "expected a mapping")
    fields = {f.name for f in dataclasses.fields(NoisePolicy)}
    _need(set(raw) <= fields, where,
          f"unknown key(s) {names(set(raw) - fields)}; allowed: {', '.join(sorted(fields))}")
    for key, value in raw.items():
        _number(value, f"{where}.{key}", integer=key.startswith("bootstrap"), positive=key != "bootstrap_seed")
    noise = NoisePolicy(**raw)
    _need(noise.alpha < 0.5, where, f"alpha is a one-sided level below 0.5 (e.g. 0.05), got {noise.alpha}")
    return noise


def _bundled_items(name: str) -> int | None:
    """Records of a bundled evaluation set (non-empty lines of its JSONL file); None for other names."""
    from kit.eval.sets import bundled_sets

    path = bundled_sets("eval").get(name)
    return None if path is None else sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def check_resolution(policy: UseCasePolicy) -> None:
    """Refuse a per-item limit that its set's size cannot resolve (a one-line :class:`KitError`).

    A paired limit ``L`` can be shown only on ``n ≥ ceil(z²·(1 − L) / L)`` items (the set on
    which a candidate that changes no answer passes; :func:`kit.eval.stats.resolvable_items`).
    ``min_samples`` must be at least that, and a bundled set must hold at least
    ``min_samples`` items. Token metrics are resolved by the gate's bootstrap on the record.

    Args:
        policy: a parsed use case.
    """
    from kit.eval.stats import resolvable_items

    where, alpha = f"{policy.source}: use_cases.{policy.name}.metrics", policy.noise.alpha
    for m in policy.metrics:
        if not m.spec.paired:
            continue
        needed = resolvable_items(limit=m.limit, alpha=alpha)
        _need(needed is not None, f"{where}.{m.metric}.limit",
              "a zero limit cannot be shown on any finite set; allow a positive degradation (e.g. 0.05)")
        _need(m.min_samples >= needed, f"{where}.{m.metric}.min_samples",
              f"{m.min_samples} items cannot resolve a limit of {m.limit:g} at alpha {alpha:g}: even an unchanged "
              f"model needs ≥ {needed} items (ceil(z²(1−L)/L)); raise min_samples to ≥ {needed} or widen the limit")
        have = _bundled_items(m.eval_set)
        _need(have is None or have >= m.min_samples, f"{where}.{m.metric}.eval_set",
              f"bundled set '{m.eval_set}' has {have} items, fewer than min_samples {m.min_samples} (a limit of "
              f"{m.limit:g} needs ≥ {needed} at alpha {alpha:g}); grow the set or widen the limit")


def parse_use_case(name: str, raw: Any, *, noise: NoisePolicy | None = None, source: str = "policy") -> UseCasePolicy:
    """Validate one use case given as a mapping in the policy-file format (as in the YAML).

    Args:
        name: the use case's name.
        raw: its mapping: description, default_method, eval_sets, metrics (optional noise).
        noise: the file-level noise settings (defaults when None).
        source: where it came from, for error messages.
    """
    noise = noise or NoisePolicy()
    where = f"{source}: use_cases.{name}"
    _need(isinstance(raw, dict), where, "expected a mapping with description, default_method, eval_sets, metrics")
    missing = {"description", "default_method", "eval_sets", "metrics"} - set(raw)
    _need(not missing, where, f"missing key(s) {', '.join(sorted(missing))}")
    unknown = set(raw) - {"description", "default_method", "eval_sets", "metrics", "noise", "serving_defaults",
                          "reviewed_for"}
    _need(not unknown, where, f"unknown key(s) {names(unknown)}; allowed: description, default_method, "
          "eval_sets, metrics, noise, serving_defaults, reviewed_for")
    reviewed = raw.get("reviewed_for", [])
    _need(isinstance(reviewed, list) and all(isinstance(r, str) for r in reviewed), where + ".reviewed_for",
          "expected a list of baseline names whose team reviewed these limits for them")
    _need(isinstance(raw["default_method"], str) and raw["default_method"] in METHODS, where + ".default_method",
          f"unknown method {raw['default_method']!r}; use one of {', '.join(METHODS)}")
    sets = raw["eval_sets"]
    _need(isinstance(sets, list) and sets and all(isinstance(s, str) for s in sets), where + ".eval_sets",
          "expected a non-empty list of eval set names or paths")
    metrics = raw["metrics"]
    _need(isinstance(metrics, dict) and metrics, where + ".metrics",
          "expected a non-empty mapping of metric name → limit")
    policy = UseCasePolicy(
        name=name, description=str(raw["description"]).strip(), default_method=raw["default_method"],
        eval_sets=tuple(sets), metrics=tuple(_metric(m, r, tuple(sets), where) for m, r in metrics.items()),
        noise=_noise(raw.get("noise"), where + ".noise") if "noise" in raw else noise, source=source,
        serving_defaults=parse_serving_defaults(raw["serving_defaults"], where=where + ".serving_defaults")
        if "serving_defaults" in raw else (),
        reviewed_for=tuple(reviewed),
    )
    check_resolution(policy)
    return policy


def load_policies(*, path: str | os.PathLike[str] | None = None) -> dict[str, UseCasePolicy]:
    """Load and validate every use case of the policy file.

    Args:
        path: the YAML file (default: see :func:`policy_path`).
    """
    file = policy_path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise KitError(f"{file}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                       "save the policy file as UTF-8") from None
    except OSError as exc:
        raise KitError(f"cannot read policy file {file} ({exc.strerror}); "
                       "set KIT_POLICIES or pass the right path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # YAML's messages span lines
        raise KitError(f"{file}{at}: not valid YAML ({problem}); fix the syntax") from None
    except (ValueError, RecursionError) as exc:  # e.g. an impossible date such as 2026-13-40, absurd nesting
        raise KitError(f"{file}: not a valid policy file ({type(exc).__name__}: {exc}); fix the value") from None
    source = str(file)
    _need(isinstance(raw, dict) and raw.get("version") == 1, source, "expected a mapping with 'version: 1' and 'use_cases'")
    _need(set(raw) <= {"version", "noise", "use_cases"}, source,
          f"unknown top-level key(s) {names(set(raw) - {'version', 'noise', 'use_cases'})}")
    cases = raw.get("use_cases")
    _need(isinstance(cases, dict) and cases, source + ": use_cases",
          "expected a non-empty mapping of use-case name → policy")
    noise = _noise(raw.get("noise"), source + ": noise")
    return {name: parse_use_case(name, body, noise=noise, source=source) for name, body in cases.items()}


def get_policy(name: str, *, path: str | os.PathLike[str] | None = None) -> UseCasePolicy:
    """The policy of one use case.

    Args:
        name: the use case (``chat-assistant``, ...).
        path: the YAML file (default: see :func:`policy_path`).
    """
    policies = load_policies(path=path)
    if name not in policies:
        raise KitError(f"unknown use case '{name}'{nearest(name, policies)}; choose one of {', '.join(policies)} "
                       f"(or add it to {policy_path(path)})")
    return policies[name]


def require_reason(*, policy: UseCasePolicy, methods: list[str] | tuple[str, ...], reason: str | None) -> None:
    """Refuse methods other than the sanctioned default unless a reason is recorded.

    Args:
        policy: the use case's policy.
        methods: the methods about to be piloted.
        reason: why deviating from the default is justified.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise KitError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    sanctioned = {policy.default_method} | {d.method for d in policy.serving_defaults}  # any target's default
    others = [m for m in methods if m not in sanctioned]
    if others and not (reason or "").strip():
        raise KitError(f"use case '{policy.name}' sanctions {', '.join(sorted(sanctioned))}; to try {', '.join(others)} "
                       f"record why with --reason \"...\" (API: reason=)")
