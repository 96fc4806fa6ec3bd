"""The ``kit`` command line: ``kit eval``, ``kit baseline``, ``kit sets``, ``kit demo`` and more."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from kit.cli import govern, quant
from kit.cli._args import add_protocol_args, protocol_from_args
from kit.errors import KitError

__all__ = ["build_parser", "main"]

DEMO_SETS = ("stdlib-docs", "everyday-mc", "short-answers")


def _evaluate_many(model_ref: str, sets: Sequence[str], args: argparse.Namespace, baseline: str | None) -> list[dict[str, Any]]:
    from kit.console import progress_default, stage
    from kit.eval.harness import evaluate
    from kit.models import load_model
    from kit.eval.tables import summarize

    progress, protocol = progress_default(), protocol_from_args(args)
    model = load_model(model_ref, device=args.device)
    base = None
    if baseline:
        base = load_model(baseline, device=model.device)
    elif model.quantization and not args.no_baseline:
        base = load_model(model.quantization["baseline"]["ref"], device=model.device)
    records = []
    for name in sets:
        rec = evaluate(model=model, eval_set=name, baseline=base, protocol=protocol,
                       measure_speed=not args.no_speed, progress=progress)
        row = summarize(rec)
        stage("eval", f"{row['model']} on {row['set']}: {row['metric']} {row['value']} in {rec['seconds']['total']:.1f} s")
        records.append(rec)
    return records


def _print_and_save(records: list[dict[str, Any]], out: str | None) -> None:
    from kit.io import atomic_write_json
    from kit.eval.tables import format_table, summarize

    print(format_table([summarize(r) for r in records]))
    if out:
        atomic_write_json(out, records[0] if len(records) == 1 else records)
        print(f"wrote {out}")


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate one model on one or more sets."""
    _print_and_save(_evaluate_many(args.model, args.eval, args, args.baseline), args.json)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Evaluate the embedded model on every bundled set and print the table."""
    args.baseline, args.no_baseline = None, True
    _print_and_save(_evaluate_many(args.model, list(DEMO_SETS), args, None), args.json)
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    """Prepare (or verify) the hashed fp32 baseline of an embedded model."""
    import json

    from kit.models import BASELINE_FILE, prepare_baseline

    path = prepare_baseline(args.alias, force=args.force)
    info = json.loads((path / BASELINE_FILE).read_text())
    print(f"baseline {args.alias}: {path}\n  weights sha256 {info['weights_sha256']}\n  source  sha256 {info['source']['sha256']}")
    return 0


def cmd_sets(args: argparse.Namespace) -> int:
    """List the bundled evaluation and calibration sets."""
    from kit.eval.sets import bundled_sets, load_set
    from kit.eval.tables import format_table

    rows = []
    for folder in ("eval", "calibration"):
        for name in bundled_sets(folder):
            s = load_set(name, folder=folder)
            rows.append({"folder": folder, "name": name, "kind": s.kind, "records": len(s.items), "sha256": s.sha256[:12]})
    print(format_table(rows))
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    """Generate exercises from solutions, check for drift, or strip notebook outputs."""
    from pathlib import Path

    import nbformat

    from kit.teach.exercises import check_clean, check_exercises, clean, generate_exercises

    if args.action == "generate":
        for path in generate_exercises(solutions=args.solutions, exercises=args.exercises):
            print(f"wrote {path}")
        return 0
    notebooks = sorted(p for folder in ("notebooks", args.solutions, args.exercises) for p in Path(folder).glob("*.ipynb"))
    if args.action == "clean":
        for path in notebooks:
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        print(f"cleaned {len(notebooks)} notebooks")
        return 0
    problems = check_exercises(solutions=args.solutions, exercises=args.exercises) + check_clean(notebooks)
    for problem in problems:
        print(problem, file=sys.stderr)
    print("exercises in sync, notebooks clean" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Record the reference outputs of cells tagged ``nbval-check-output``, or check they are current."""
    from pathlib import Path

    import nbformat

    from kit.notebook_outputs import checked_cells, record, stale_references

    paths = [Path(p) for p in args.paths] or sorted(
        p for folder in ("notebooks", "solutions") for p in Path(folder).glob("*.ipynb")
        if checked_cells(nbformat.read(p, as_version=4)))
    if not paths:
        raise KitError("no notebook with a cell tagged 'nbval-check-output' here; run from the repository root or pass paths")
    if args.action == "record":
        for path in paths:
            print(f"wrote {record(notebook=path)}", flush=True)
        return 0
    problems = stale_references(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"reference outputs current for {len(paths)} notebooks" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="kit", description="Quantization practice kit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("eval", help="evaluate a model on evaluation sets")
    p.add_argument("--model", required=True, help="alias (smollm2-135m), folder or hub id")
    p.add_argument("--eval", required=True, action="append", help="bundled set name or .jsonl/.txt path (repeatable)")
    p.add_argument("--baseline", default=None, help="reference for agreement (default: the artifact's recorded baseline)")
    p.add_argument("--no-baseline", action="store_true", help="skip agreement with the baseline")
    p.add_argument("--json", default=None, help="write the record(s) here")
    add_protocol_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demo", help="evaluate the embedded model on all bundled sets")
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--json", default=None)
    add_protocol_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("baseline", help="prepare and verify an embedded model's fp32 baseline")
    p.add_argument("alias", nargs="?", default="smollm2-135m")
    p.add_argument("--force", action="store_true", help="rebuild even if present")
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("sets", help="list bundled evaluation and calibration sets")
    p.set_defaults(func=cmd_sets)

    p = sub.add_parser("exercises", help="generate exercises from solutions; check drift; clean notebooks")
    p.add_argument("action", choices=["generate", "check", "clean"])
    p.add_argument("--solutions", default="solutions")
    p.add_argument("--exercises", default="exercises")
    p.set_defaults(func=cmd_exercises)

    p = sub.add_parser("notebooks", help="record or check the reference outputs of cells tagged nbval-check-output")
    p.add_argument("action", choices=["record", "check"])
    p.add_argument("paths", nargs="*", help="notebooks (default: those in notebooks/ and solutions/ with marked cells)")
    p.set_defaults(func=cmd_notebooks)

    for group in (quant, govern):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a :class:`KitError` becomes a one-line ``error:`` message and exit code 2.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
