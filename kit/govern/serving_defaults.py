"""Sanctioned defaults per serving target: which method serves a use case on CPU or GPU, on which engine, and why.

``default_method`` of a use case stays the team's standard (on GPU: bitsandbytes 8-bit for
general use, GPTQ/AWQ 4-bit for serving). A policy may add ``serving_defaults`` per target
with the engine and a recorded reason; a target without an entry uses ``default_method``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kit.engines import ENGINES
from kit.errors import KitError
from kit.quant.methods import METHOD_NAMES as METHODS

__all__ = ["SERVING_TARGETS", "ServingDefault", "describe", "parse_serving_defaults", "serving_default", "serving_target"]


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise KitError(f"{where}: {message}")


#: Where a model serves: the target names a policy's ``serving_defaults`` may use.
SERVING_TARGETS = ("cpu", "gpu")


@dataclasses.dataclass(frozen=True)
class ServingDefault:
    """The sanctioned method for one serving target, the engine it serves on, and why."""

    target: str
    method: str
    engine: str | None  # None: as the method's library serves it (the team's standard)
    reason: str
    recorded: bool = True  # False: implied by default_method (no serving_defaults entry for the target)


def serving_default(policy: Any, target: str) -> ServingDefault:
    """The sanctioned default of a use case on a serving target (``cpu`` or ``gpu``).

    Args:
        policy: the use case (a :class:`~kit.govern.policy.UseCasePolicy`).
        target: where the model will serve.
    """
    if target not in SERVING_TARGETS:
        raise KitError(f"unknown serving target '{target}'; use one of {', '.join(SERVING_TARGETS)}")
    for d in policy.serving_defaults:
        if d.target == target:
            return d
    return ServingDefault(target=target, method=policy.default_method, engine=None, recorded=False,
                          reason=f"no {target} serving default is recorded for {policy.name}; the team's standard "
                                 f"{policy.default_method} applies")


def parse_serving_defaults(raw: Any, *, where: str) -> tuple[ServingDefault, ...]:
    """Validate a use case's ``serving_defaults`` mapping (as in the policy YAML).

    Args:
        raw: the mapping of target → {method, engine, reason}.
        where: the file and key path, for messages.
    """
    _need(isinstance(raw, dict) and raw, where, f"expected a mapping of serving target ({', '.join(SERVING_TARGETS)}) "
          "→ {method, engine, reason}")
    out = []
    for target, body in raw.items():
        at = f"{where}.{target}"
        _need(target in SERVING_TARGETS, at, f"unknown serving target; use one of {', '.join(SERVING_TARGETS)}")
        _need(isinstance(body, dict) and set(body) <= {"method", "engine", "reason"} and "method" in body
              and "reason" in body, at, "expected {method: M, engine: reference|packed, reason: why}")
        _need(isinstance(body["method"], str) and body["method"] in METHODS, at + ".method",
              f"unknown method {body['method']!r}; use one of "
              f"{', '.join(METHODS)}")
        _need(body.get("engine") is None or (isinstance(body["engine"], str) and body["engine"] in ENGINES), at + ".engine",
              f"unknown engine {body.get('engine')!r}; use one of {', '.join(ENGINES)}")
        _need(isinstance(body["reason"], str) and body["reason"].strip() != "", at + ".reason",
              "record why this default serves this target (the measurement it rests on)")
        out.append(ServingDefault(target=target, method=body["method"], engine=body.get("engine"),
                                  reason=" ".join(body["reason"].split())))
    return tuple(out)


def serving_target(device: str | None) -> str:
    """``gpu`` for a CUDA device, else ``cpu`` (automatic device: CUDA when available).

    Args:
        device: ``cpu``, ``cuda``, ``cuda:N`` or None.
    """
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return "gpu" if str(device).startswith("cuda") else "cpu"


def describe(default: ServingDefault) -> str:
    """One line: which default applies on the target and why (the pilot's ``serving`` stage line).

    Args:
        default: from :func:`serving_default`.
    """
    engine = f" on the {default.engine} engine" if default.engine else ""
    return f"serving target {default.target}: sanctioned default {default.method}{engine} — {default.reason}"
