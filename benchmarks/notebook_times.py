"""Run every notebook and solution headless with its default parameters; print the wall time of each.

Run: ``python benchmarks/notebook_times.py [--timeout 600] [paths...]``. Uses a scratch
registry and runs folder so nothing of yours is touched. The README lists the last run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Execute the notebooks one by one and print a table of times (exit 1 if any failed)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb and solutions/*.ipynb)")
    ap.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="kit-nbtimes-")  # one registry for all: 04 finds what 02 registered
    scratch = tmp.name  # removed at exit (the notebooks' models take GBs)
    from kit.papermill_run import run_headless

    paths = [Path(p) for p in args.paths] or sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "solutions").glob("*.ipynb"))
    failed = 0
    print(f"{'notebook':42} {'seconds':>8}  status", flush=True)
    for path in paths:
        t0 = time.perf_counter()
        try:
            run_headless(notebook=path, scratch=scratch, timeout=args.timeout)
            status = "ok"
        except Exception as exc:  # noqa: BLE001 - report and go on: one table for all notebooks
            status, failed = f"FAILED: {str(exc).splitlines()[0][:80]}", failed + 1
        print(f"{path.parent.name + '/' + path.name:42} {time.perf_counter() - t0:8.1f}  {status}", flush=True)
    print(f"cpu threads {os.cpu_count()}, python {sys.version.split()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
