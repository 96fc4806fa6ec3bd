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
