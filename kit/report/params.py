"""Typed parameter schemas of the report notebooks, checked before papermill starts a kernel.

Each notebook's ``parameters`` cell holds exactly these names with these defaults (a test
checks it), so the CLI, the notebook and the docs agree on one list.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from kit.errors import KitError, names
from kit.models import DEFAULT_MODEL

__all__ = ["ADOPTION", "PILOT", "REVALIDATION", "Param", "check_parameters", "coerce", "public_parameters"]


@dataclasses.dataclass(frozen=True)
class Param:
    """One notebook parameter: its type(s), default and meaning."""

    types: tuple[type, ...]
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    positive: bool = False  # a size, count, price or utilisation: must be > 0 (other numbers: >= 0)
    at_most: float | None = None  # an upper bound, where one exists (utilisation ≤ 1)


_NUM = (int, float)
#: notebooks/06_pilot_report.ipynb
PILOT: dict[str, Param] = {
    "model": Param((str,), DEFAULT_MODEL, "baseline alias or folder"),
    "use_case": Param((str,), "chat-assistant", "a use case of the policy file"),
    "entries": Param((list,), [], "registry entry ids to report (default: the latest pilot of model/use case)"),
    "run_if_missing": Param((bool,), True, "run a pilot when the registry holds none"),
    "methods": Param((list,), [], "methods a new pilot tries (default: the sanctioned one)"),
    "reason": Param((str,), "", "new pilot: why try methods other than the sanctioned one (required then)"),
    "max_tokens": Param((int, type(None)), 512, "new pilot: text sets scored on the first N tokens (None: all)",
                        positive=True),
    "limit": Param((int, type(None)), 20, "new pilot: first N items of MC/generation sets (None: all)", positive=True),
    "requests_per_day": Param((int,), 100_000, "inference volume the savings assume"),
    "tokens_per_request": Param((int,), 300, "generated tokens per request", positive=True),
    "accelerator_hour_price": Param(_NUM, 2.0, "price of one accelerator (or server) hour, USD", positive=True),
    "utilisation": Param(_NUM, 0.5, "fraction of each paid hour the hardware spends generating (0 < u ≤ 1)",
                         positive=True, at_most=1.0),
    "accelerator_memory_gib": Param(_NUM, 24.0, "memory of one accelerator, GiB", positive=True),
    "memory_headroom": Param(_NUM, 0.3, "extra memory per replica for KV cache and activations (fraction of weights)"),
    "cost_basis": Param((str,), "throughput", "savings headline: serving hours from throughput, or replicas from memory",
                        ("throughput", "memory")),
    "hardware": Param((str,), "", "hardware label for the footnote (default: the measured device)"),
    "registry": Param((str,), "", "registry file or postgresql:// URL (default: $KIT_REGISTRY...)"),
    "output_dir": Param((str,), "", "where figures and summary.json go (default: a runs/ folder)"),
}
#: notebooks/07_adoption_dashboard.ipynb
ADOPTION: dict[str, Param] = {
    "inventory": Param((str,), "data/examples/inventory.csv", "inventory CSV to import (empty: use the registry table)"),
    "incidents": Param((str,), "data/examples/incidents.csv", "incident log CSV to import (empty: use the registry table)"),
    "top_n": Param((int,), 5, "coverage of the top-N models by volume", positive=True),
    "cost_basis": PILOT["cost_basis"],
    "as_of": Param((str,), "", "end date of the cumulative savings, YYYY-MM-DD (default: today)"),
    "registry": PILOT["registry"],
    "output_dir": PILOT["output_dir"],
}
#: notebooks/08_revalidate_after_upgrade.ipynb
REVALIDATION: dict[str, Param] = {
    "entries": Param((list,), [], "entries to re-validate (default: the stale ones)"),
    "rerun": Param((bool,), True, "re-run the harness with each entry's recorded protocol"),
    "device": Param((str,), "", "device to re-validate on (default: auto)"),
    "registry": PILOT["registry"],
    "output_dir": PILOT["output_dir"],
}


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is type(None) else t.__name__ for t in types)


def check_parameters(*, schema: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults updated by ``given``, after checking names, types and choices.

    Args:
        schema: one of :data:`PILOT`, :data:`ADOPTION`, :data:`REVALIDATION`.
        given: parameter values to set.
    """
    unknown = set(given) - set(schema)
    if unknown:
        raise KitError(f"unknown parameter {names(unknown)}; known: {', '.join(schema)}")
    for name, value in given.items():
        p = schema[name]
        ok = isinstance(value, p.types) and not (isinstance(value, bool) and bool not in p.types)
        if isinstance(value, int) and not isinstance(value, bool) and float in p.types:
            ok = True
        if not ok:
            raise KitError(f"parameter {name} must be {_type_name(p.types)}, got {type(value).__name__} {value!r}")
        if p.choices and value not in p.choices:
            raise KitError(f"parameter {name} must be one of {', '.join(p.choices)}, got {value!r}")
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and (not math.isfinite(value) or value < 0 or (p.positive and value == 0)
                       or (p.at_most is not None and value > p.at_most)):
            bound = f" and <= {p.at_most:g}" if p.at_most is not None else ""
            raise KitError(f"parameter {name} must be a finite number {'> 0' if p.positive else '>= 0'}{bound}, "
                           f"got {value}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise KitError(f"parameter {name} must be a list of strings, got {value!r}")
    return {k: p.default for k, p in schema.items()} | dict(given)


def coerce(*, schema: Mapping[str, Param], name: str, text: str) -> Any:
    """A command-line string as the parameter's type (``none`` for None, ``a,b`` for lists, ``true``/``false``).

    Args:
        schema: the notebook's schema.
        name: the parameter.
        text: its value as typed.
    """
    if name not in schema:
        raise KitError(f"unknown parameter {name}; known: {', '.join(schema)}")
    types = schema[name].types
    if type(None) in types and text.strip().lower() in ("none", "null"):
        return None
    if list in types:
        return [v.strip() for v in text.split(",") if v.strip()]
    if bool in types and text.lower() in ("true", "yes", "1", "false", "no", "0"):
        return text.lower() in ("true", "yes", "1")
    for t in (int, float):
        if t in types:
            try:
                return t(text.replace("_", ""))
            except ValueError:
                continue
    if str in types:
        return text
    raise KitError(f"parameter {name} must be {_type_name(types)}, got '{text}'")


_SECRET = re.compile(r"(password|secret|token_?key|api_?key|credential)", re.I)


def public_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters safe to print: secrets dropped, passwords in URLs masked.

    Args:
        params: the notebook's parameters.
    """
    out = {}
    for k, v in params.items():
        if _SECRET.search(k):
            continue
        out[k] = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", v) if isinstance(v, str) else v
    return out
