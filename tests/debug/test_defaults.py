"""The debugging defaults are defined once: the functions and the ``kit debug`` command read kit.debug.defaults."""

import inspect

from kit.cli.main import build_parser
from kit.debug import defaults
from kit.debug.bisect import bisect_fix
from kit.debug.diagnose import MIN_TOKENS, diagnose
from kit.debug.sensitivity import sensitivity


def test_functions_and_cli_share_the_defaults():
    args = build_parser().parse_args(["debug", "--baseline", "b", "--candidate", "c"])
    assert (args.tokens, args.top, args.max_gates) == (defaults.TOKENS, defaults.TOP, defaults.MAX_GATES)
    d = inspect.signature(diagnose).parameters
    assert (d["tokens"].default, d["top"].default) == (defaults.TOKENS, defaults.TOP)
    assert inspect.signature(sensitivity).parameters["top"].default == defaults.TOP
    assert inspect.signature(bisect_fix).parameters["max_gates"].default == defaults.MAX_GATES
    assert MIN_TOKENS == defaults.MIN_TOKENS


def test_the_help_states_the_defaults_it_uses():
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices["debug"]
    helps = {a.dest: a.help for a in sub._actions}
    assert f"default {defaults.TOKENS}" in helps["tokens"] and f"at least {defaults.MIN_TOKENS}" in helps["tokens"]
    assert f"default {defaults.TOP}" in helps["top"] and f"default {defaults.MAX_GATES}" in helps["max_gates"]
