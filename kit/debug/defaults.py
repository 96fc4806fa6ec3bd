"""The debugging defaults, named once: ``kit.debug`` functions and the ``kit debug`` command read them here."""

from __future__ import annotations

__all__ = ["MAX_GATES", "MIN_TOKENS", "TOKENS", "TOP"]

#: Tokens of the use case's text set the instruments compare on.
TOKENS = 256
#: The fewest tokens the instruments compare on.
MIN_TOKENS = 16
#: Units measured for sensitivity (0 skips it).
TOP = 3
#: Budget of candidate gate runs a bisection may spend, the first two included.
MAX_GATES = 16
