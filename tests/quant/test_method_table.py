"""kit.quant.methods: the method table is built from the adapters and feeds policy, widgets, CLI and docs."""

from pathlib import Path

from kit.quant.methods import METHOD_NAMES, METHOD_TABLE, METHODS, method_bits, method_table_markdown

DOC = Path(__file__).parents[2] / "docs" / "quantization.md"


def test_table_rows_come_from_the_adapters():
    assert [row.name for row in METHOD_TABLE] == list(METHOD_NAMES) == list(METHODS)
    for row in METHOD_TABLE:
        m = METHODS[row.name]
        assert (row.library, row.bits, row.default_bits, row.grouped, row.calibrated) == (
            m.library, tuple(m.supported_bits), m.default_bits, m.grouped, m.calibrated)
        assert row.default_bits in row.bits
    assert method_bits()["awq"] == [4, 8] and method_bits()["bnb-int8"] == [8]
    assert {r.name for r in METHOD_TABLE if r.calibrated} == {"gptq", "awq", "autoround"}


def test_policy_names_are_the_table_names():
    from kit.govern.policy import METHODS as POLICY_METHODS

    assert tuple(POLICY_METHODS) == METHOD_NAMES


def test_a_policy_may_name_autoround_as_its_method():
    from kit.govern.policy import parse_use_case

    raw = {"description": "d", "default_method": "autoround", "eval_sets": ["stdlib-docs"],
           "metrics": {"perplexity": {"eval_set": "stdlib-docs", "direction": "lower",
                                      "limit": {"kind": "relative", "value": 0.2}, "min_samples": 10}}}
    assert parse_use_case("mine", raw).default_method == "autoround"


def test_cli_help_lists_every_method(capsys):
    import pytest

    from kit.cli.main import main

    for argv in (["quantize", "-h"], ["pilot", "-h"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = " ".join(capsys.readouterr().out.split())
        assert all(name in text for name in METHOD_NAMES), argv


def test_docs_table_matches_the_code():
    text = DOC.read_text(encoding="utf-8")
    begin, end = text.index("-->\n", text.index("<!-- method-table")) + 4, text.index("<!-- /method-table -->")
    fix = ("regenerate it: .venv/bin/python -c 'from kit.quant.methods import method_table_markdown as m; print(m())'"
           " and paste between the method-table markers of docs/quantization.md")
    assert text[begin:end].strip() == method_table_markdown(), fix
