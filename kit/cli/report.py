"""CLI verbs for leadership reports: ``kit report pilot|batch|adoption|revalidation`` (registered into ``kit.cli.main``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["register"]

# option dest → notebook parameter (values stay strings here; the schema converts and checks them; dests are
# prefixed where kit.cli._checks would check a same-named flag of another command as a number)
_PILOT_OPTIONS = {"model": "model", "use_case": "use_case", "entry": "entries", "methods": "methods", "reason": "reason",
                  "report_max_tokens": "max_tokens", "report_limit": "limit", "requests_per_day": "requests_per_day",
                  "tokens_per_request": "tokens_per_request", "price": "accelerator_hour_price", "utilisation": "utilisation",
                  "accelerator_gib": "accelerator_memory_gib", "cost_basis": "cost_basis", "hardware": "hardware",
                  "registry": "registry"}


def _parameters(args: argparse.Namespace, schema: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    from kit.report.params import coerce

    given: dict[str, Any] = {}
    for dest, name in options.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        given[name] = [v for item in value for v in coerce(schema=schema, name=name, text=item)] \
            if isinstance(value, list) else coerce(schema=schema, name=name, text=value)
    for item in args.param or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise KitError(f"-p takes NAME=VALUE, got '{item}'")
        given[name.strip().replace("-", "_")] = coerce(schema=schema, name=name.strip().replace("-", "_"), text=text)
    return given


def _written(out: Path, summary: dict[str, Any]) -> str:
    html = out / "report.html"
    figures = sorted(p.name for p in out.glob("*.png"))
    return (f"wrote {out}: report.html ({html.stat().st_size / 1024:.0f} KB), summary.json, report.ipynb"
            + (f", {len(figures)} figures" if figures else ""))


def cmd_pilot(args: argparse.Namespace) -> int:
    """Run notebook 06 for one pilot and write its report folder."""
    from kit.report.params import PILOT, check_parameters
    from kit.report.runner import check_out, report_kind, run_report

    given = _parameters(args, PILOT, _PILOT_OPTIONS) | {"run_if_missing": bool(args.run)}
    check_parameters(schema=PILOT, given=given)  # types, ranges, a finite price and utilisation: before the registry
    check_out(args.out, kind=report_kind("pilot"), overwrite=args.overwrite)
    if not args.run:  # say so now rather than from inside a kernel
        from kit.govern.registry import Registry
        from kit.report.summary import pilot_entries

        with Registry.open(args.registry or None) as reg:
            if not pilot_entries(registry=reg, model=args.model, use_case=args.use_case, entry_ids=given.get("entries", [])):
                raise KitError(f"the registry {reg.location} holds no pilot of {args.model} for {args.use_case}; run "
                               f"`kit pilot --model {args.model} --use-case {args.use_case}` first or pass --run")
    summary = run_report(kind="pilot", out=args.out, parameters=given, overwrite=args.overwrite)
    d = summary["decision"]
    print(_written(Path(args.out).resolve(), summary))
    print(f"decision: {d['headline']} — {d['why']}")
    print(f"summary stored on registry entries {', '.join(summary['provenance']['entries'])}")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """One pilot report per inventory model that has a pilot, plus a roll-up page."""
    from kit.report.batch import run_batch

    rollup = run_batch(inventory=args.inventory, out=args.out, registry=args.registry or "", run=args.run,
                       overwrite=args.overwrite)
    for row in rollup["models"]:
        print(f"{row['model']}: {row['status']}" + (f" — {row['decision']}" if row.get("decision") else ""))
    print(f"wrote {Path(args.out).resolve()}: index.html, rollup.json and {rollup['reports']} report folder(s)")
    return 0


def cmd_notebook_report(args: argparse.Namespace) -> int:
    """Run notebook 07 (adoption) or 08 (re-validation) and write its folder."""
    from kit.report.params import ADOPTION, REVALIDATION
    from kit.report.runner import run_report

    if args.kind == "adoption":
        given = _parameters(args, ADOPTION, {"inventory": "inventory", "incidents": "incidents", "top_n": "top_n",
                                             "cost_basis": "cost_basis", "as_of": "as_of", "registry": "registry"})
        for name in ("inventory", "incidents"):  # the bundled fictional CSVs are imported only when asked
            given.setdefault(name, ADOPTION[name].default if args.examples else "")
    else:
        given = _parameters(args, REVALIDATION, {"entry": "entries", "device": "device", "registry": "registry"})
        if args.no_rerun:
            given["rerun"] = False
    summary = run_report(kind=args.kind, out=args.out, parameters=given, overwrite=args.overwrite)
    print(_written(Path(args.out).resolve(), summary))
    for line in summary.get("headlines", []):
        print(line)
    if args.json:
        print(json.dumps(summary, indent=1, default=str))
    return 0


def register(sub: Any) -> None:
    """Add ``report`` (pilot, batch, adoption, revalidation) to the ``kit`` subparsers.

    Args:
        sub: the object returned by ``ArgumentParser.add_subparsers``.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", required=True, help="report folder to create (written atomically)")
    common.add_argument("--overwrite", action="store_true", help="replace an existing report folder")
    common.add_argument("--registry", default=None, help="registry file or postgresql:// URL (default: $KIT_REGISTRY...)")
    common.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                        help="set any notebook parameter (checked against the notebook's schema)")

    p = sub.add_parser("report", help="leadership reports: pilot, batch, adoption dashboard, re-validation")
    kinds = p.add_subparsers(dest="kind", required=True)

    r = kinds.add_parser("pilot", parents=[common], help="before/after report of one pilot (notebook 06)")
    r.add_argument("--model", required=True, help="baseline name (`kit baseline list`) or folder")
    r.add_argument("--use-case", required=True)
    r.add_argument("--entry", action="append", help="registry entry id to report (repeatable; default: latest pilot)")
    r.add_argument("--run", action="store_true", help="run a pilot when the registry holds none")
    r.add_argument("--methods", action="append", help="with --run: methods to try (comma-separated or repeated)")
    r.add_argument("--reason", help="with --run: why try a method other than the sanctioned one")
    r.add_argument("--max-tokens", dest="report_max_tokens",
                   help="with --run: text sets scored on the first N tokens (quick runs)")
    r.add_argument("--limit", dest="report_limit", help="with --run: first N items of MC/generation sets (quick runs)")
    r.add_argument("--requests-per-day", help="inference volume for the savings (default 100000)")
    r.add_argument("--tokens-per-request", help="generated tokens per request (default 300)")
    r.add_argument("--price", help="USD per accelerator hour (default 2.0)")
    r.add_argument("--utilisation", help="fraction of each paid hour spent generating, 0 < u <= 1 (default 0.5)")
    r.add_argument("--accelerator-gib", help="memory per accelerator in GiB (default 24)")
    r.add_argument("--cost-basis", help="throughput (serving hours) or memory (replicas)")
    r.add_argument("--hardware", help="hardware label for the footnote")
    r.set_defaults(func=cmd_pilot)

    r = kinds.add_parser("batch", help="one pilot report per inventory model, plus a roll-up page")
    r.add_argument("--inventory", required=True, help="inventory CSV (model, owner, requests_per_day, ...)")
    r.add_argument("--out", required=True)
    r.add_argument("--overwrite", action="store_true")
    r.add_argument("--registry", default=None)
    r.add_argument("--run", action="store_true", help="run a small pilot for models that have none")
    r.set_defaults(func=cmd_batch)

    r = kinds.add_parser("adoption", parents=[common], help="adoption dashboard: coverage, time-to-quantize, "
                         "incidents, savings (notebook 07)")
    r.add_argument("--inventory", help="inventory CSV to import first (default: the registry's inventory)")
    r.add_argument("--incidents", help="incident log CSV to import first (default: the registry's incident log)")
    r.add_argument("--examples", action="store_true", help="import the bundled fictional inventory and incidents "
                   "(data/examples/) into the registry first; undo with `kit registry import --undo ID`")
    r.add_argument("--top-n", help="coverage of the top-N models by volume (default 5)")
    r.add_argument("--cost-basis", help="throughput or memory")
    r.add_argument("--as-of", help="end date of the savings series, YYYY-MM-DD")
    r.set_defaults(func=cmd_notebook_report, json=False, no_rerun=False)

    r = kinds.add_parser("revalidation", parents=[common], help="before/after of a stack upgrade per entry (notebook 08)")
    r.add_argument("--entry", action="append", help="entry to re-validate (repeatable; default: the stale ones)")
    r.add_argument("--no-rerun", action="store_true", help="list the stale entries without re-running them")
    r.add_argument("--device", help="device to re-validate on")
    r.set_defaults(func=cmd_notebook_report, json=False, examples=False)
