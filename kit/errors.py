"""The kit's one error type: a one-line message that names the fix; and the nearest valid name for a typo."""

from collections.abc import Iterable

__all__ = ["KitError", "nearest"]


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
