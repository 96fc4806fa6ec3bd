"""Facts the kit states once: the default model alias, how a time is written, the colours.

Each test scans the source tree for a restatement of the fact outside the module that defines
it; the planted-copy tests show the scan would catch one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kit import palette
from kit.embedded import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for folder in ("kit", "benchmarks", "scripts") for p in (ROOT / folder).rglob("*.py"))

# Files other helpers were rewriting while these facts got their one home: they still restate the fact.
# Lead: point them at the definition (kit.embedded.DEFAULT_MODEL, kit.clock) and empty these sets.
ALIAS_PENDING: set[str] = set()
CLOCK_PENDING: set[str] = set()

# A time written by hand: a strftime pattern, an isoformat() call or a clock read for a stamp.
_STAMP = re.compile(r"%Y|isoformat\(timespec|datetime\.now\(|time\.gmtime\(|time\.localtime\(")
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _alias_literals(source: str) -> int:
    """How many string constants in ``source`` are exactly the default alias (docstrings mention it in prose)."""
    return sum(isinstance(n, ast.Constant) and n.value == DEFAULT_MODEL for n in ast.walk(ast.parse(source)))


def _stamps(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if _STAMP.search(line)]


def _colours(source: str) -> list[str]:
    return [m.group(0) for line in source.splitlines() if not line.lstrip().startswith("#")
            for m in _HEX.finditer(line)]


def test_the_scans_find_a_planted_copy():
    assert _alias_literals(f'def f(model="{DEFAULT_MODEL}"):\n    """Load ``{DEFAULT_MODEL}``."""\n') == 1
    assert _stamps('stamp = time.strftime("%Y%m%d-%H%M%S")\nx = 1\n') == ['stamp = time.strftime("%Y%m%d-%H%M%S")']
    assert _colours('color = "#8f1d14"  # fail red\n# a comment naming #abcdef is fine\n') == ["#8f1d14"]


def test_the_default_model_alias_is_written_once():
    found = {_rel(p) for p in SOURCES if _rel(p) != "kit/embedded.py" and _alias_literals(p.read_text())}
    assert found - ALIAS_PENDING == set(), "use DEFAULT_MODEL (kit.embedded, or kit.models) instead of the alias literal"
    assert found >= ALIAS_PENDING, f"already fixed: drop from ALIAS_PENDING: {sorted(ALIAS_PENDING - found)}"


def test_times_are_written_by_kit_clock_only():
    found = {_rel(p): _stamps(p.read_text()) for p in SOURCES if _rel(p) != "kit/clock.py"}
    found = {path: lines for path, lines in found.items() if lines}
    extra = {path: lines for path, lines in found.items() if path not in CLOCK_PENDING}
    assert extra == {}, "write times with kit.clock.utc_now / folder_stamp (UTC, one format)"
    assert set(found) >= CLOCK_PENDING, f"already fixed: drop from CLOCK_PENDING: {sorted(CLOCK_PENDING - set(found))}"


def test_colours_come_from_the_palette():
    found = {_rel(p): _colours(p.read_text()) for p in sorted((ROOT / "kit").rglob("*.py"))
             if _rel(p) != "kit/palette.py"}
    assert {path: hexes for path, hexes in found.items() if hexes} == {}, "name the colour in kit/palette.py"
    fail, passing = palette.STATUS_STYLES["fail"], palette.STATUS_STYLES["pass"]
    assert palette.STATUS_STYLES["error"] == fail and fail[0] == palette.FAIL and passing[0] == palette.PASS
