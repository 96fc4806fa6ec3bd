"""CLI verbs for learning: ``kit exercises``, ``kit progress`` and ``kit onboarding`` (registered into :mod:`kit.cli.main`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kit.errors import KitError

__all__ = ["register"]

_TIMES = Path("docs") / "onboarding-times.json"


def cmd_exercises(args: argparse.Namespace) -> int:
    """Generate exercises from solutions, check for drift, or strip notebook outputs."""
    import nbformat

    from kit.teach.exercises import check_clean, check_exercises, clean, generate_exercises

    if args.action == "generate":
        kept: list[Path] = []
        for path in generate_exercises(solutions=args.solutions, exercises=args.exercises, overwrite=args.overwrite,
                                       kept=kept):
            print(f"wrote {path}")
        for path in kept:
            print(f"kept your edited copy at {path}")
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


def cmd_progress(args: argparse.Namespace) -> int:
    """List the notebooks and exercises this learner has completed, and the questions answered right."""
    import json

    from kit.eval.tables import format_table
    from kit.teach.progress import curriculum, load, log_path, summary

    path = Path(args.log) if args.log else log_path()
    log = load(path=path)
    rows = summary(log=log, items=curriculum())
    if args.format == "json":
        print(json.dumps({"log": str(path), "items": rows}, indent=2))
        return 0
    first = next((r["name"] for r in rows if r["kind"] == "notebook"), "00_setup_check")
    if not log["completed"] and not log["answers"]:
        print(f"nothing completed yet; start with {first} (progress log: {path})")
        return 0
    print(format_table(rows))
    done = [r for r in rows if r["completed"] != "-"]
    nxt = next((r["name"] for r in rows if r["completed"] == "-"), None)
    print(f"{len(done)} of {len(rows)} completed" + (f"; next: {nxt}" if nxt else "; all done") + f" (log: {path})")
    return 0


def _read_times(path: Path) -> dict[str, Any]:
    import json

    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise KitError(f"{path} is not JSON ({exc}); re-measure with `kit onboarding --measure`") from None
    if not isinstance(data, dict) or not isinstance(data.get("seconds", {}), dict):
        raise KitError(f"{path} has no 'seconds' mapping; re-measure with `kit onboarding --measure`")
    return data


def cmd_onboarding(args: argparse.Namespace) -> int:
    """Print the expected time per notebook (reading + tasks + measured run); ``--measure`` runs them first."""
    from kit.io import atomic_write_json
    from kit.teach.onboarding import estimate, format_markdown, measure_run_seconds

    paths = [Path(p) for p in args.paths] or sorted(Path("notebooks").glob("*.ipynb")) + sorted(
        Path("solutions").glob("*.ipynb"))
    missing = [str(p) for p in paths if p.suffix != ".ipynb" or not p.is_file()]
    if missing or not paths:
        raise KitError(f"no notebook at {missing or 'notebooks/'}; run from the repository root or pass .ipynb paths")
    times_file = Path(args.times)
    times = _read_times(times_file)
    if args.measure:  # merged into the saved times, so notebooks can be measured one at a time
        from kit.io import check_writable

        check_writable(times_file, what="--times")  # before minutes of running, not after
        measured = measure_run_seconds(paths=paths, timeout=args.timeout)
        times = _read_times(times_file)  # re-read: other measurements may have landed meanwhile
        times = {"seconds": {**times.get("seconds", {}), **{k: round(v, 1) for k, v in measured.items()}},
                 "notes": {**times.get("notes", {}), **{k: args.note for k in measured}}}
        atomic_write_json(times_file, times)
        print(f"wrote {times_file}")
    print(format_markdown(estimate(paths=paths, run_seconds=times.get("seconds", {}))))
    notes = sorted({n for n in times.get("notes", {}).values() if n})
    if notes:
        print("\nrun times measured: " + "; ".join(notes))
    return 0


def register(sub: Any) -> None:
    """Add ``exercises``, ``progress`` and ``onboarding`` to the ``kit`` subcommands.

    Args:
        sub: the ``add_subparsers`` object of the main parser.
    """
    p = sub.add_parser("exercises", help="generate exercises from solutions; check drift; clean notebooks")
    p.add_argument("action", choices=["generate", "check", "clean"])
    p.add_argument("--solutions", default="solutions")
    p.add_argument("--exercises", default="exercises")
    p.add_argument("--overwrite", action="store_true",
                   help="generate: replace exercises you edited (a copy of each is kept in runs/exercise-backups/)")
    p.set_defaults(func=cmd_exercises)

    p = sub.add_parser("progress", help="which notebooks and exercises this learner has completed")
    p.add_argument("--log", default=None, help="the progress log (default $KIT_PROGRESS_LOG or ~/.cache/quant-kit/progress.json)")
    p.add_argument("--format", choices=["table", "json"], default="table", help="print a table or JSON")
    p.set_defaults(func=cmd_progress)

    p = sub.add_parser("onboarding", help="expected time per notebook: reading + tasks + measured headless run")
    p.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb, then solutions/*.ipynb)")
    p.add_argument("--measure", action="store_true", help="run each notebook headless first and save the times")
    p.add_argument("--times", default=str(_TIMES), help=f"measured run times (JSON; default {_TIMES})")
    p.add_argument("--timeout", type=int, default=1800, help="with --measure: per-cell timeout in seconds")
    p.add_argument("--note", default="", help="with --measure: how the times were taken (machine, load)")
    p.set_defaults(func=cmd_onboarding)
