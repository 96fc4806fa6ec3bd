"""CLI verbs ``kit debug`` (diagnose a candidate, optionally bisect to a fix) and ``kit regressions`` (planted faults)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from kit.debug.defaults import MAX_GATES, MIN_TOKENS, TOKENS, TOP
from kit.errors import KitError

__all__ = ["register"]


def _use_case(args: argparse.Namespace, candidate: Any, registry: Any) -> str:
    from kit.govern.policy import get_policy, load_policies

    if args.use_case:
        get_policy(args.use_case, path=args.policies)
        return args.use_case
    entries = registry.find(candidate.sha256) if registry is not None and candidate.sha256 else []
    if entries:
        return entries[-1].use_case
    raise KitError(f"no registry entry names this candidate's use case; pass --use-case "
                   f"({', '.join(load_policies(path=args.policies))})")


def cmd_debug(args: argparse.Namespace) -> int:
    """Diagnose why a candidate fails its gate: ranked findings, per-module table, optionally a bisected fix."""
    from kit.console import progress_default, stage
    from kit.debug.diagnose import check_tokens, diagnose
    from kit.debug.regressions import load_candidate
    from kit.govern.registry import Registry
    from kit.io import atomic_write_json, check_writable
    from kit.models import load_model, resolve_path

    if args.json:
        check_writable(args.json, what="--json")
    if args.fix_out and not args.bisect:
        raise KitError("--fix-out applies the bisected fix; add --bisect")
    if args.fix_out:
        check_writable(args.fix_out, what="--fix-out", kind="folder")
        if os.path.lexists(os.path.expanduser(args.fix_out)):
            raise KitError(f"--fix-out {args.fix_out} already exists; kit debug never replaces a folder: choose a new one")
    resolve_path(args.candidate)
    check_tokens(tokens=args.tokens, use_case=args.use_case, policies=args.policies)  # before anything loads
    progress = progress_default()
    registry = Registry.open(args.registry) if args.registry else None
    try:
        candidate = load_candidate(args.candidate, device=args.device or "cpu")
        use_case = _use_case(args, candidate, registry)
        baseline = load_model(args.baseline, device=candidate.device)
        stage("load", f"baseline {baseline.ref} and candidate {candidate.ref} on {candidate.device}")
        result = diagnose(baseline=baseline, candidate=candidate, use_case=use_case, tokens=args.tokens, top=args.top,
                          registry=registry, policies=args.policies, progress=progress)
        capped = f" (the whole text set: {result.tokens_used:,} of the {args.tokens:,} tokens asked)" \
            if result.tokens_used < args.tokens else ""
        stage("diagnose", f"{len(result.findings)} finding(s), shape {result.shape['shape']} on {result.tokens_used} "
              f"tokens{capped} in {result.seconds:.1f} s")
        code = 0
        if args.bisect:
            code = _bisect(args, result, baseline, candidate, use_case, registry, progress)
        print(result.format(rows=args.rows))
        if args.json:
            atomic_write_json(args.json, result.to_dict())
            print(f"wrote {args.json}")
        return code
    finally:
        if registry is not None:
            registry.close()


def _bisect(args: argparse.Namespace, result: Any, baseline: Any, candidate: Any, use_case: str, registry: Any,
            progress: bool) -> int:
    from kit.console import stage
    from kit.debug.bisect import bisect_fix
    from kit.debug.fix import apply_fix, fix_command, fix_spec
    from kit.debug.oracle import GateOracle

    oracle = GateOracle(baseline=baseline, use_case=use_case, max_tokens=args.gate_tokens, limit=args.gate_limit,
                        policies=args.policies, progress=progress)
    config = candidate.quantization or {}
    found = bisect_fix(gate=oracle, baseline=baseline, candidate=candidate, table=result.table,
                       bits=config.get("bits"), group_size=config.get("group_size"), max_gates=args.max_gates)
    stage("bisect", f"{found['text']} (gate {oracle.policy.name})")
    result.fix = dict(found, policy=oracle.policy.name)
    if not found.get("ignore"):
        return 0 if not found["needed"] else 1
    spec = fix_spec(config=config, ignore=found["ignore"])
    result.fix["spec"] = spec
    result.fix["command"] = fix_command(spec, out=args.fix_out or "runs/fixed")
    if args.fix_out:
        applied = apply_fix(spec=spec, out=args.fix_out, oracle=oracle, registry=registry, progress=progress)
        verdict = applied.pop("verdict")
        result.fix["applied"] = applied | {"decision": verdict.decision, "verdict": verdict.to_dict()}
        stage("fix", f"{applied['path']}: gate {oracle.policy.name} {verdict.decision}"
              + (f", registered as {applied['entry_id']}" if applied.get("entry_id") else ""))
        return 0 if verdict.passed else 1
    return 0


def cmd_regressions(args: argparse.Namespace) -> int:
    """List the planted regressions or write one as an artifact folder."""
    from kit.console import progress_default, stage
    from kit.debug.regressions import list_regressions, load_regression, plant

    if args.action == "list":
        for name in list_regressions():
            reg = load_regression(name)
            print(f"{name}: {reg.title} (gate: {reg.use_case})")
        return 0
    if not args.name or not args.out:
        raise KitError("plant needs a regression name and --out DIR (see `kit regressions list`)")
    path = plant(args.name, out=args.out, overwrite=args.overwrite, progress=progress_default())
    stage("plant", f"{args.name} written to {path}; diagnose it with `kit debug --baseline smollm2-135m --candidate {path}`")
    return 0


def register(sub: Any) -> None:
    """Add ``debug`` and ``regressions`` to the ``kit`` subcommands.

    Args:
        sub: the ``add_subparsers`` object of the main parser.
    """
    p = sub.add_parser("debug", help="diagnose why a quantized model fails its gate (ranked, per module); --bisect finds a fix")
    p.add_argument("--baseline", required=True,
                   help="the full-precision baseline: a baseline name (`kit baseline list`) or folder")
    p.add_argument("--candidate", required=True, help="the quantized artifact folder")
    p.add_argument("--use-case", default=None, help="policy use case (default: the candidate's registry entry)")
    p.add_argument("--json", default=None, help="write the diagnosis here")
    p.add_argument("--tokens", type=int, default=TOKENS,
                   help=f"tokens of the use case's text set compared (default {TOKENS}; at least {MIN_TOKENS}; "
                        "more than the set holds compares all of it)")
    p.add_argument("--top", type=int, default=TOP, help=f"units measured for sensitivity (default {TOP}; 0 skips it)")
    p.add_argument("--rows", type=int, default=10, help="modules listed, most severe first (default 10)")
    p.add_argument("--bisect", action="store_true", help="search the smallest ignore list that passes the gate")
    p.add_argument("--gate-tokens", type=int, default=None,
                   help="bisect on the first N tokens of text sets (a rehearsal gate; default: full sets)")
    p.add_argument("--gate-limit", type=int, default=None, help="bisect on the first N items of other sets (rehearsal)")
    p.add_argument("--max-gates", type=int, default=MAX_GATES,
                   help="budget of candidate gate runs for --bisect, the first two included (as is; everything kept); "
                        f"default {MAX_GATES}")
    p.add_argument("--fix-out", default=None, help="with --bisect: quantize the fix here, re-gate and register it")
    p.add_argument("--registry", default=None, help="registry path/URL for the stack-drift check and registering the fix")
    p.add_argument("--policies", default=None, help="policy file (default policies/tolerances.yaml)")
    p.add_argument("--device", default=None, help="cpu or cuda (default cpu)")
    p.set_defaults(func=cmd_debug)

    p = sub.add_parser("regressions", help="list the planted regressions, or write one as an artifact to debug")
    p.add_argument("action", choices=["list", "plant"])
    p.add_argument("name", nargs="?", default=None, help="the regression (plant)")
    p.add_argument("--out", default=None, help="artifact folder to create (plant)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    p.set_defaults(func=cmd_regressions)
