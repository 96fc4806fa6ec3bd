"""The kit's one error type (a one-line message that names the fix), its exit codes, and the nearest name for a typo.

:data:`EXIT_CODES` feeds the CLI (``kit.cli.main``), the generated command reference
(``docs/cli.md``) and the exit-code table of ``docs/reliability.md``.
"""

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["EXIT_BUG", "EXIT_CODES", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "ExitCode", "KitError",
           "exit_code_summary", "exit_code_table", "names", "nearest"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


class ExitCode(NamedTuple):
    """What an exit code means, in a word and in full, and what the user sees with it."""

    short: str
    meaning: str
    seen: str


#: code → its meaning.
EXIT_CODES: dict[int, ExitCode] = {
    EXIT_OK: ExitCode("done", "done", "the result"),
    EXIT_FAILED: ExitCode("did not pass", "a gate, pilot, re-validation or debugging fix did **not pass**, "
                          "or `kit exercises check` / `kit registry import-check` found problems (drift, stale references, "
                          "an MLflow mirror that differs from the registry)", "the verdict / the problems"),
    EXIT_USAGE: ExitCode("your input is wrong", "**your input** is wrong: a flag, a path, a file, the environment",
                 "one line `error: ...` that says what to do"),
    EXIT_BUG: ExitCode("a bug in the kit", "an **internal error**: a bug in the kit",
               "one line `error: internal error (Type: message); this is a bug ...`"),
    EXIT_INTERRUPTED: ExitCode("interrupted", "interrupted (Ctrl-C)", "one line"),
}


def exit_code_table() -> str:
    """The exit codes as a Markdown table (code, meaning, what you see)."""
    rows = [f"| {code} | {c.meaning} | {c.seen} |" for code, c in EXIT_CODES.items()]
    return "\n".join(["| code | meaning | what you see |", "|------|---------|--------------|", *rows])


def exit_code_summary() -> str:
    """The exit codes in one line (``0 done, 1 did not pass, ...``), for the README."""
    return ", ".join(f"{code} {c.short}" for code, c in EXIT_CODES.items())


class KitError(Exception):
    """A user-facing error; its message says what is wrong and how to fix it."""


def nearest(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the valid name closest to a typo, or ``""`` when none is close.

    A message built with it offers a real name, never the typo back (``chat-asistant`` →
    ``chat-assistant``).

    Args:
        word: what the user typed.
        choices: the valid names.
    """
    import difflib

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close and close[0] != word else ""


def names(keys: Iterable[object]) -> str:
    """Keys from a user's file, sorted and comma-joined for a one-line message.

    A key that is empty, padded or holds a line break or other unprintable character is
    quoted (``'\\n'``), so the message stays one line and shows what the file really says;
    YAML keys may also be numbers or dates.

    Args:
        keys: the keys to name.
    """
    shown = (s if s and s.isprintable() and s.strip() == s else repr(s) for s in map(str, keys))
    return ", ".join(sorted(shown))
