"""CLI verbs for the gate, the registry, re-validation and the pilot (registered into ``kit.cli.main``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kit.engines import PILOT_ENGINES
from kit.errors import KitError
from kit.eval.record_files import read_records
from kit.govern.adoption_csv import INVENTORY_COLUMNS

__all__ = ["register"]


def _write(out: str | None, data: Any) -> None:
    if out:
        from kit.io import atomic_write_json

        atomic_write_json(out, data)
        print(f"wrote {out}")


def cmd_gate(args: argparse.Namespace) -> int:
    """Judge candidate records against baseline records under a use case's policy."""
    from kit.govern.gate import gate
    from kit.govern.policy import get_policy

    verdict = gate(baseline=read_records(args.baseline), candidate=read_records(args.candidate),
                   policy=get_policy(args.use_case, path=args.policies), allow_cross_engine=args.allow_cross_engine)
    print(verdict.format())
    _write(args.json, verdict.to_dict())
    return 0 if verdict.passed else 1


def _rows(entries: list[Any], latest: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": e.id, "created": e.created_at[:16].replace("T", " "), "model": e.model_ref, "method": e.method,
             "bits": e.bits, "use_case": e.use_case, "latest": latest[e.id].decision,
             "validated": latest[e.id].created_at[:10], "aliases": ",".join(e.aliases) or None, "owner": e.owner,
             "req_per_day": e.volume_per_day} for e in entries]


def cmd_registry(args: argparse.Namespace) -> int:
    """Inspect and manage the registry."""
    from kit.eval.tables import format_table
    from kit.govern.registry import Registry, current_stack, stack_changes

    with Registry.open(args.registry) as reg:
        if args.action in ("list", "find"):
            entries = reg.list(use_case=args.use_case) if args.action == "list" else reg.find(args.target)
            latest = reg.latest_validations()
            if args.action == "find":
                for e in entries:
                    print(f"{args.target} is already quantized with {e.method}{f' {e.bits}-bit' if e.bits else ''} "
                          f"(entry {e.id}, {e.use_case}, {latest[e.id].decision} at its latest validation): {e.model_ref}")
            print(format_table(_rows(entries, latest)) if entries else f"no entries in {reg.location}")
        elif args.action == "show":
            entry = reg.get(args.target)
            history = reg.validations(entry.id)
            data = entry.to_dict() | {"validations": [{k: v for k, v in vars(h).items() if k != "evals"} for h in history]}
            _write(args.json, data)
            from kit.govern.gate import Verdict

            print(f"entry {entry.id}: {entry.model_ref} ({entry.method}, {entry.bits or '-'}-bit) for {entry.use_case}, "
                  f"owner {entry.owner}, {entry.volume_per_day or '-'} req/day, aliases {', '.join(entry.aliases) or '-'}")
            if entry.reason:
                print(f"reason for deviating from the default: {entry.reason}")
            if entry.template_of:
                print(f"followed the validated pilot of entry {entry.template_of} (`kit registry recipe {entry.id}`)")
            print(Verdict.from_dict(history[-1].verdict).format())
            steps = [f"{h.created_at[:19]} {h.kind} {h.decision}" for h in history]
            print("history: " + "; ".join(steps))
        elif args.action == "recipe":
            from kit.govern.template import recipe_commands

            print("\n".join(recipe_commands(reg.get(args.target))))
        elif args.action in ("incident", "incidents", "import"):
            _adoption_action(reg, args)
        elif args.action == "promote":
            entry = reg.promote(args.target, alias=args.alias, stack=current_stack(device=args.device))
            print(f"promoted {entry.id} as '{args.alias}' for {entry.baseline_ref}/{entry.use_case}")
        else:  # stale
            now = current_stack(device=args.device)
            latest = reg.latest_validations()
            entries = reg.stale(now)
            for e in entries:
                changes = stack_changes(recorded=latest[e.id].stack, current=now)
                print(f"{e.id} ({e.method}, {e.use_case}): {'; '.join(changes)}")
            print(f"{len(entries)} stale entr{'y' if len(entries) == 1 else 'ies'}; refresh with `kit revalidate --stale`")
    return 0


def _adoption_action(reg: Any, args: argparse.Namespace) -> None:
    from kit.eval.tables import format_table

    if args.action == "incident":
        inc = reg.record_incident(entry_id=args.target, stage=args.stage, note=args.note, occurred_at=args.at)
        print(f"recorded {inc.stage} incident {inc.id} on {inc.entry_id} ({inc.model_ref}): {inc.note}")
    elif args.action == "incidents":
        rows = [{"id": i.id, "when": i.occurred_at[:16].replace("T", " "), "stage": i.stage, "model": i.model_ref,
                 "entry": i.entry_id, "note": i.note, "source": i.source} for i in reg.incidents(stage=args.stage)]
        print(format_table(rows) if rows else f"no incidents in {reg.location}")
    elif args.undo:
        batch, done, kept = reg.undo_import(args.undo)
        print(f"undid import {batch.id} ({batch.kind} from {batch.source}, {batch.imported_at[:19]}): {done} row(s) "
              "removed or restored" + (f"; kept {kept} a later import changed (undo that one first)" if kept else ""))
    elif args.list:
        rows = [{"id": b.id, "when": b.imported_at[:16].replace("T", " "), "kind": b.kind, "source": b.source,
                 "rows": b.row_count, "by": b.imported_by, "undone": (b.undone_at or "")[:16].replace("T", " ") or None}
                for b in reg.imports()]
        print(format_table(rows) if rows else f"no imports in {reg.location}")
    elif args.inventory or args.incidents:
        from kit.govern.adoption_csv import read_incidents, read_inventory

        if args.inventory:
            read_inventory(args.inventory)  # both files (and the entries they name) checked before either is imported
        for row in read_incidents(args.incidents)[0] if args.incidents else []:
            if row["entry"]:
                reg.get(row["entry"])
        for path, method, what in ((args.inventory, reg.import_inventory, "inventory rows"),
                                   (args.incidents, reg.import_incidents, "new incidents")):
            if path:
                _, batch = method(path)
                print(f"imported {batch.row_count} {what} from {path} ({batch.source}); "
                      f"undo with `kit registry import --undo {batch.id}`")
    else:
        raise KitError("give --inventory FILE and/or --incidents FILE to import, --list, or --undo ID")


def _add_adoption_args(verbs: dict[str, Any]) -> None:
    inc = verbs["incident"]
    inc.add_argument("--stage", required=True, choices=["gate", "production"],
                     help="gate: caught before release; production: reached users")
    inc.add_argument("--note", required=True, help="what regressed, one line")
    inc.add_argument("--at", default=None, help="when it happened, ISO-8601 UTC (default: now)")
    verbs["incidents"].add_argument("--stage", default=None, choices=["gate", "production"])
    verbs["import"].add_argument("--inventory", default=None, help="CSV: " + ", ".join(INVENTORY_COLUMNS))
    verbs["import"].add_argument("--incidents", default=None, help="CSV: occurred_at, model, stage, note[, entry]")
    verbs["import"].add_argument("--list", action="store_true", help="list the imports made (with their ids)")
    verbs["import"].add_argument("--undo", default=None, metavar="ID",
                                 help="take back one import: remove the rows it added, restore the rows it changed")


def cmd_revalidate(args: argparse.Namespace) -> int:
    """Re-run the harness and the gate for registry entries on the current stack."""
    from kit.govern.registry import Registry, current_stack
    from kit.govern.revalidate import revalidate

    if bool(args.id) + args.all + args.stale != 1:
        raise KitError("give exactly one of: an entry ID, --all, --stale")
    results = []
    with Registry.open(args.registry) as reg:
        chosen = reg.list() if args.all else reg.stale(current_stack(device=args.device)) if args.stale else []
        ids = [args.id] if args.id else [e.id for e in chosen]
        errors = 0
        for entry_id in ids:
            try:
                r = revalidate(registry=reg, entry_id=entry_id, policies=args.policies, device=args.device)
            except KitError as exc:
                if args.id:
                    raise
                errors += 1  # keep going: one missing artifact must not block the others
                print(f"error: {exc}", file=sys.stderr)
                continue
            for line in r["regressions"]:
                print(f"  regression: {line}")
            results.append(r)
    print(f"revalidated {len(results)} of {len(ids)} entr{'y' if len(ids) == 1 else 'ies'}; "
          f"{sum(not r['passed'] for r in results)} failing, {sum(bool(r['regressions']) for r in results)} "
          f"with regressions, {errors} error(s)")
    _write(args.json, results)
    return 2 if errors else 0 if all(r["passed"] for r in results) else 1


def cmd_pilot(args: argparse.Namespace) -> int:
    """Baseline → quantize → evaluate → gate → register, then the decision table."""
    from kit.cli._args import calibration_from_args
    from kit.eval.harness import Protocol
    from kit.eval.tables import format_table
    from kit.govern.pilot import run_pilot
    from kit.govern.policy import get_policy
    from kit.quant.spec import QuantSpec

    candidates = None
    if args.like:
        if args.methods or args.bits is not None or args.group_size is not None:
            raise KitError("--like replays the entry's recipe; drop --methods/--bits/--group-size (or leave out --like)")
    elif not args.use_case:
        raise KitError("kit pilot needs --use-case (or --like ENTRY_ID to replay a validated pilot's recipe)")
    else:
        methods = args.methods or [get_policy(args.use_case, path=args.policies).default_method]
        calibration = calibration_from_args(args)
        candidates = [QuantSpec(method=m, bits=args.bits, group_size=args.group_size, calibration=calibration)
                      for m in methods]
    result = run_pilot(like=args.like,
        model=args.model, use_case=args.use_case, candidates=candidates, reason=args.reason, owner=args.owner,
        volume_per_day=args.volume, protocol=Protocol(max_tokens=args.max_tokens, limit=args.limit),
        out_dir=args.out_dir, overwrite=args.overwrite, registry=args.registry, register=not args.no_register,
        policies=args.policies, device=args.device, measure_speed=not args.no_speed, full=args.full,
        engine=args.engine)
    for c in result["candidates"]:
        print(c["verdict_text"])
    print(format_table(result["table"]))
    d = result["decision"]
    entry = f" (entry {d['entry_id']})" if d["entry_id"] else ""
    print(f"decision: {d['recommended'] or 'none'}{entry} — {d['why']}")
    _write(args.json, result)
    return 0 if d["recommended"] else 1


def register(sub: Any) -> None:
    """Add ``gate``, ``registry``, ``revalidate`` and ``pilot`` to the ``kit`` subparsers.

    Args:
        sub: the object returned by ``ArgumentParser.add_subparsers``.
    """
    from kit.cli._args import add_calibration_args
    from kit.quant.methods import METHOD_NAMES

    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--registry", default=None, help="registry file or postgresql:// URL "
                       "(default: $KIT_REGISTRY_URL, $KIT_REGISTRY, ~/.cache/quant-kit/registry.sqlite)")
    pol = argparse.ArgumentParser(add_help=False)
    pol.add_argument("--policies", default=None, help="policy file (default: $KIT_POLICIES or policies/tolerances.yaml)")

    p = sub.add_parser("gate", parents=[pol], help="judge candidate records against baseline records")
    p.add_argument("--baseline", required=True, action="append", help="baseline record JSON (repeatable)")
    p.add_argument("--candidate", required=True, action="append", help="candidate record JSON (repeatable)")
    p.add_argument("--use-case", required=True, help="a use case of the policy file")
    p.add_argument("--json", default=None, help="write the verdict here")
    p.add_argument("--allow-cross-engine", action="store_true",
                   help="allow a baseline not measured on the reference engine (the verdict says so)")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("registry", help="list, show, find, promote and check quantized models")
    verbs = p.add_subparsers(dest="action", required=True)
    for name, helptext in (("list", "all entries"), ("show", "one entry with its validation history"),
                           ("find", "entries of a model (reuse before quantizing again)"),
                           ("promote", "set an alias (default champion) after a passing validation"),
                           ("stale", "entries last validated on another stack"),
                           ("recipe", "an entry's recipe as the commands to type (and to replay it with --like)"),
                           ("incident", "log a regression caught at the gate or reached production"),
                           ("incidents", "list logged regression incidents"),
                           ("import", "import an inventory or incident log from CSV")):
        v = verbs.add_parser(name, parents=[where], help=helptext)
        if name in ("show", "find", "promote", "incident", "recipe"):
            v.add_argument("target", metavar="MODEL" if name == "find" else "ID")
        v.set_defaults(func=cmd_registry, use_case=None, alias="champion", json=None, device=None)
    verbs.choices["list"].add_argument("--use-case", default=None)
    verbs.choices["show"].add_argument("--json", default=None, help="write the entry here")
    verbs.choices["promote"].add_argument("--alias", default="champion")
    for name in ("promote", "stale"):
        verbs.choices[name].add_argument("--device", default=None, help="the device validations run on (default: auto)")
    _add_adoption_args(verbs.choices)
    from kit.cli.mlflow_verbs import add_registry_verbs  # export / import-check (MLflow, optional)
    add_registry_verbs(verbs, parents=[where])

    p = sub.add_parser("revalidate", parents=[where, pol], help="re-run evaluations and the gate on the current stack")
    p.add_argument("id", nargs="?", default=None, help="entry id (or prefix)")
    p.add_argument("--all", action="store_true", help="every entry")
    p.add_argument("--stale", action="store_true", help="entries last validated on another stack")
    p.add_argument("--device", default=None)
    p.add_argument("--json", default=None, help="write the results here")
    p.set_defaults(func=cmd_revalidate)

    p = sub.add_parser("pilot", parents=[where, pol], help="baseline → quantize → evaluate → gate → register")
    p.add_argument("--model", required=True, help="baseline name (see `kit baseline list`) or folder")
    p.add_argument("--use-case", default=None, help="a use case of the policy file (with --like: the entry's)")
    p.add_argument("--like", default=None, metavar="ENTRY_ID",
                   help="replay a validated entry's recipe (method, bits, group size, scheme, calibration, ignore "
                        "list, use case) on this baseline; recorded as template_of")
    p.add_argument("--methods", nargs="+", default=None, help="methods to try, of: " + ", ".join(METHOD_NAMES)
                   + " (default: the sanctioned one)")
    p.add_argument("--reason", default=None, help="why deviate from the sanctioned method (required then)")
    p.add_argument("--owner", default=None)
    p.add_argument("--volume", type=int, default=None, help="expected inference requests per day")
    p.add_argument("--max-tokens", type=int, default=None, help="text sets: first N tokens (quick runs)")
    p.add_argument("--limit", type=int, default=None, help="MC/generation sets: first N items (quick runs)")
    p.add_argument("--bits", type=int, default=None)
    p.add_argument("--group-size", type=int, default=None)
    add_calibration_args(p, seed=False)
    p.add_argument("--out-dir", default=None, help="artifact folder (default: runs/pilot-<model>-<use case>-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace existing artifacts in --out-dir")
    p.add_argument("--no-register", action="store_true", help="do not add results to the registry")
    p.add_argument("--device", default=None)
    p.add_argument("--no-speed", action="store_true", help="skip latency/throughput")
    p.add_argument("--full", action="store_true",
                   help="score every candidate on every set in full (default: look by look, stopping once decided)")
    p.add_argument("--engine", choices=list(PILOT_ENGINES), default="serving",
                   help="serving: each candidate on the engine it would be served on (packed where its artifact "
                        "allows); reference: every candidate dequantized")
    p.add_argument("--json", default=None, help="write the pilot result here")
    p.set_defaults(func=cmd_pilot)
