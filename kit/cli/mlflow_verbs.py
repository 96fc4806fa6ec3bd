"""``kit registry export --mlflow URI`` and ``kit registry import-check --mlflow URI`` (added to ``kit registry``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_registry_verbs"]


def cmd_export(args: argparse.Namespace) -> int:
    """Mirror the registry into MLflow (idempotent)."""
    from kit.govern.mlflow_sync import MLFLOW_URI_ENV, export_registry
    from kit.govern.registry import Registry, current_stack

    uri = args.mlflow or os.environ.get(MLFLOW_URI_ENV)
    with Registry.open(args.registry) as reg:
        done = export_registry(registry=reg, tracking_uri=uri or "", entry_ids=args.entry or None,
                               stack=current_stack(device=args.device), upload_weights=args.upload_weights)
    c = done["created"]
    print(f"exported {done['entries']} entr{'y' if done['entries'] == 1 else 'ies'} to {done['target']}: "
          f"{c['runs']} new run(s), {c['versions']} new model version(s), {c['models']} new registered model(s)")
    for line in done["aliases_set"]:
        print(f"  alias set: {line}")
    for line in done["aliases_removed"]:
        print(f"  alias removed: {line}")
    return 0


def cmd_import_check(args: argparse.Namespace) -> int:
    """Confirm that MLflow holds what the registry holds; exit 1 when it does not."""
    from kit.govern.mlflow_check import check_mirror
    from kit.govern.mlflow_sync import MLFLOW_URI_ENV
    from kit.govern.mlflow_target import mask_uri
    from kit.govern.registry import Registry, current_stack

    uri = args.mlflow or os.environ.get(MLFLOW_URI_ENV) or ""
    with Registry.open(args.registry) as reg:
        problems = check_mirror(registry=reg, tracking_uri=uri, stack=current_stack(device=args.device))
        count = len(reg.list())
    for line in problems:
        print(f"  mismatch: {line}")
    if problems:
        print(f"MLflow at {mask_uri(uri)} differs from the registry in {len(problems)} place(s); "
              "run `kit registry export --mlflow URI` to bring it up to date")
        return 1
    print(f"MLflow at {mask_uri(uri)} matches the registry ({count} entries)")
    return 0


def add_registry_verbs(verbs: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``export`` and ``import-check`` to the ``kit registry`` verbs.

    Args:
        verbs: the ``kit registry`` subparsers.
        parents: parsers whose options every verb takes (``--registry``).
    """
    uri = argparse.ArgumentParser(add_help=False)
    uri.add_argument("--mlflow", default=None, metavar="URI",
                     help="MLflow tracking URI, e.g. sqlite:///mlflow.db or http://host:5000 (default: $KIT_MLFLOW_URI)")
    uri.add_argument("--device", default=None, help="the device validations run on, for the stack check (default: auto)")
    v = verbs.add_parser("export", parents=[*parents, uri], help="mirror entries, validations and aliases into MLflow")
    v.add_argument("--entry", action="append", default=None, metavar="ID", help="only this entry (repeatable)")
    v.add_argument("--upload-weights", action="store_true",
                   help="also upload each artifact's files (default: registered by reference: path + manifest hash)")
    v.set_defaults(func=cmd_export)
    v = verbs.add_parser("import-check", parents=[*parents, uri],
                         help="confirm MLflow matches the registry (exit 1 when it does not)")
    v.set_defaults(func=cmd_import_check)
