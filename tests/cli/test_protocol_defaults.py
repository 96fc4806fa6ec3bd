"""The CLI's protocol flags default to the Protocol's own defaults (defined once), and a given flag wins."""

from kit.cli._args import protocol_from_args
from kit.cli.main import build_parser
from kit.eval.harness import Protocol


def test_unset_flags_take_the_protocol_defaults():
    args = build_parser().parse_args(["eval", "--model", "smollm2-135m", "--eval", "stdlib-docs"])
    assert protocol_from_args(args) == Protocol()


def test_given_flags_win():
    args = build_parser().parse_args(["eval", "--model", "smollm2-135m", "--eval", "stdlib-docs", "--repeats", "2",
                                      "--batch-size", "2", "--context-length", "256"])
    assert protocol_from_args(args) == Protocol(latency_repeats=2, batch_size=2, context_length=256)


def test_help_states_the_protocol_defaults_without_importing_the_harness_to_parse():
    import dataclasses
    import subprocess
    import sys

    defaults = {f.name: f.default for f in dataclasses.fields(Protocol)}
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices["eval"]
    text = " ".join(sub.format_help().split())
    for flag, field in (("--context-length", "context_length"), ("--batch-size", "batch_size"),
                        ("--repeats", "latency_repeats")):
        assert f"(default {defaults[field]})" in text.split(flag, 2)[2][:120], flag
    code = "import sys; from kit.cli.main import build_parser; build_parser(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
