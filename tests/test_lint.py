"""Style and correctness lint: ruff with the rules in pyproject.toml ([tool.ruff]); every `noqa` must be needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("kit", "tests", "benchmarks", "scripts", "conftest.py")  # the same list as `make lint`


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *TARGETS],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"ruff check {' '.join(TARGETS)}:\n{done.stdout[-6000:]}{done.stderr[-2000:]}"
