"""docs/cli.md is generated from the parser and the exit-code wording from kit.errors.EXIT_CODES: no drift."""

import ast
from pathlib import Path

from kit.cli.docs import cli_markdown, sync_docs
from kit.cli.main import build_parser
from kit.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    assert sync_docs(ROOT, check=True) == [], "regenerate with `python -m kit.cli.docs` (or `make docs`)"


def test_the_reference_holds_every_command_and_option():
    text = cli_markdown()
    parser = build_parser()
    groups = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name, sub in groups[0].choices.items():
        assert f"## `kit {name}`" in text, name
        for action in sub._actions:
            assert all(flag in text for flag in action.option_strings), (name, action.option_strings)
    assert "| 130 |" in text and "| 3 |" in text


def test_the_check_reports_a_hand_edit(tmp_path):
    for page in ("README.md", "docs/reliability.md", "docs/cli.md"):
        (tmp_path / page).parent.mkdir(exist_ok=True)
        (tmp_path / page).write_text((ROOT / page).read_text())
    (tmp_path / "docs" / "reliability.md").write_text(
        (ROOT / "docs" / "reliability.md").read_text().replace("| 130 |", "| 131 |"))
    assert sync_docs(tmp_path, check=True) == ["docs/reliability.md"]
    assert sync_docs(tmp_path) == ["docs/reliability.md"] and sync_docs(tmp_path, check=True) == []


def test_every_exit_code_the_cli_returns_is_documented():
    """Literal codes returned by the command functions (``cmd_*``) and ``main`` are keys of EXIT_CODES."""
    returned = set()
    for path in (ROOT / "kit" / "cli").glob("*.py"):
        commands = [f for f in ast.walk(ast.parse(path.read_text()))
                    if isinstance(f, ast.FunctionDef) and (f.name == "main" or f.name.startswith("cmd_"))]
        for node in (n for f in commands for n in ast.walk(f)):
            if isinstance(node, ast.Return) and node.value is not None:
                returned |= {n.value for n in ast.walk(node.value)
                             if isinstance(n, ast.Constant) and type(n.value) is int}
    assert returned and returned <= set(EXIT_CODES), sorted(returned - set(EXIT_CODES))
