"""The ``kit`` command line: ``kit eval``, ``kit baseline``, ``kit sets``, ``kit demo`` and more."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from kit.cli import baselines, debug, govern, quant, report, speed, teach
from kit.cli._args import add_protocol_args, protocol_from_args
from kit.cli._checks import check_args
from kit.console import quiet_cli
from kit.engines import ENGINES
from kit.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE, KitError
from kit.models import DEFAULT_MODEL

__all__ = ["build_parser", "main"]

DEMO_SETS = ("stdlib-docs", "everyday-mc", "short-answers")


def _evaluate_many(model_ref: str, sets: Sequence[str], args: argparse.Namespace, baseline: str | None) -> list[dict[str, Any]]:
    from kit.console import progress_default, stage
    from kit.eval.harness import evaluate
    from kit.eval.sets import load_set
    from kit.eval.tables import summarize
    from kit.models import load_model

    progress, protocol = progress_default(), protocol_from_args(args)
    loaded_sets = [load_set(name) for name in sets]  # a missing or malformed set fails before the model loads
    model = load_model(model_ref, device=args.device, engine=getattr(args, "engine", "reference"))
    base = None
    if baseline:
        base = load_model(baseline, device=model.device)
    elif model.quantization and not args.no_baseline:
        base = load_model(model.quantization["baseline"]["ref"], device=model.device)
    records = []
    for eval_set in loaded_sets:
        rec = evaluate(model=model, eval_set=eval_set, baseline=base, protocol=protocol,
                       measure_speed=not args.no_speed, progress=progress)
        row = summarize(rec)
        stage("eval", f"{row['model']} on {row['set']}: {row['metric']} {row['value']} in {rec['seconds']['total']:.1f} s")
        records.append(rec)
    return records


def _print_and_save(records: list[dict[str, Any]], out: str | None) -> None:
    from kit.eval.tables import format_table, summarize
    from kit.io import atomic_write_json

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


class _Parser(argparse.ArgumentParser):
    """argparse under the kit's error contract: a usage error is a :class:`KitError` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise KitError(f"{message}; see `{self.prog} --help`")


def _add_debug(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for p in {id(p): p for p in action.choices.values()}.values():
                p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                               help="show library warnings and progress bars; on an error, the traceback")
                _add_debug(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="kit", description="Quantization practice kit")
    parser.add_argument("--debug", action="store_true",
                        help="show library warnings and progress bars (else kept in the run's log under <cache>/logs); "
                             "on an error, the traceback (or KIT_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("eval", help="evaluate a model on evaluation sets")
    p.add_argument("--model", required=True,
                   help=f"baseline name ({DEFAULT_MODEL} or one from `kit baseline list`), folder or hub id")
    p.add_argument("--eval", required=True, action="append", help="bundled set name or .jsonl/.txt path (repeatable)")
    p.add_argument("--baseline", default=None, help="reference for agreement (default: the artifact's recorded baseline)")
    p.add_argument("--no-baseline", action="store_true", help="skip agreement with the baseline")
    p.add_argument("--json", default=None, help="write the record(s) here")
    p.add_argument("--engine", default="reference", choices=list(ENGINES),
                   help="reference: dequantized float weights (default); packed: a gptq/awq/rtn/rtn-int8 artifact's "
                        "own integer codes on packed CPU kernels, bfloat16 activations (docs/engines.md)")
    add_protocol_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demo", help="evaluate the embedded model on all bundled sets")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--json", default=None)
    add_protocol_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sets", help="list bundled evaluation and calibration sets")
    p.set_defaults(func=cmd_sets)

    for group in (baselines, quant, govern, speed, teach, report, debug):
        group.register(sub)
    _add_debug(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI under the kit's error contract (docs/reliability.md).

    Exit codes: :data:`kit.errors.EXIT_CODES`. A user error is one line ``error: ...`` that names
    the fix; flags, paths and files are checked before any work (:func:`kit.cli._checks.check_args`).
    An internal error (a bug) is one line too. Third-party warnings, log lines and progress bars go
    to the run's log (:func:`kit.console.quiet_cli`); ``--debug`` (or ``KIT_DEBUG=1``) shows them
    too and adds the traceback.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("KIT_DEBUG", "") not in ("", "0")
    try:
        args = build_parser().parse_args(argv)
        verb = next((v for v in (getattr(args, k, None) for k in ("kind", "action")) if isinstance(v, str)), "")
        with quiet_cli(command=f"{args.command} {verb}".strip(), echo=debug):
            check_args(args)
            return int(args.func(args) or 0)
    except KitError as exc:
        if debug:
            traceback.print_exc()
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept (a leftover .partial- folder is removed by the "
              "next run into the same place)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 — last resort: anything not translated into a KitError is a bug (exit 3)
        if debug:
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        print(f"error: internal error ({type(exc).__name__}: {first}); this is a bug in the kit: rerun with --debug "
              "for the traceback and report it", file=sys.stderr)
        return EXIT_BUG
