"""What a report's parameters name, checked before a kernel starts: model, use case, entries, registry, CSVs, dates.

:func:`kit.report.params.check_parameters` checks names, types and ranges; this checks that
what the values point at exists, so a typo is one line ``error: ...`` now, not a failed
notebook minutes later.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["check_references", "resolve_data"]


def resolve_data(path: str) -> Path:
    """A path as given, else the bundled copy of ``data/...`` (the example data, from any working folder).

    Args:
        path: the path the user gave.
    """
    from kit._bundled import bundled_path

    given = Path(path).expanduser()
    if given.exists() or given.is_absolute() or given.parts[:1] != ("data",):
        return given
    return bundled_path(*given.parts)


def _check_model(ref: str) -> None:
    from kit.models import ALIASES, resolve_path

    if ref not in ALIASES:
        resolve_path(ref)  # a folder or hub id: checked without loading anything


def _check_entries(registry: Any, ids: list[str]) -> None:
    for entry_id in ids:
        registry.get(entry_id)  # unknown or ambiguous: a KitError naming `kit registry list`


def check_references(*, kind: str, params: Mapping[str, Any]) -> None:
    """Refuse parameters that name something that does not exist (raises :class:`KitError`).

    Args:
        kind: ``pilot``, ``adoption`` or ``revalidation``.
        params: the checked parameters (see :mod:`kit.report.params`).
    """
    from kit.govern.registry import Registry

    if kind == "pilot":
        from kit.govern.policy import get_policy
        from kit.quant.methods import METHOD_NAMES

        get_policy(params["use_case"])
        unknown = [m for m in params["methods"] if m not in METHOD_NAMES]
        if unknown:
            raise KitError(f"unknown method {', '.join(unknown)}; choose from {', '.join(METHOD_NAMES)}")
        _check_model(params["model"])
    if kind == "adoption":
        from kit.govern.adoption_csv import read_incidents, read_inventory

        if params["as_of"]:
            try:
                datetime.date.fromisoformat(params["as_of"])
            except ValueError:
                raise KitError(f"--as-of '{params['as_of']}' is not a real date such as 2026-11-30") from None
        if params["inventory"]:
            read_inventory(resolve_data(params["inventory"]))
        if params["incidents"]:
            read_incidents(resolve_data(params["incidents"]))
    if kind == "revalidation" and params["device"]:
        from kit.models import check_device

        check_device(params["device"])
    with Registry.open(params["registry"] or None) as reg:  # reachable, a kit registry
        _check_entries(reg, list(params.get("entries") or []))
        if kind == "adoption" and not params["inventory"] and not reg.inventory():
            raise KitError(f"the registry {reg.location} holds no inventory; pass --inventory FILE "
                           "(or --examples for the bundled fictional data)")
