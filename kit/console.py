"""Console conventions: when to show progress bars, and one summary line per stage."""

from __future__ import annotations

import os
import sys

__all__ = ["match_library_progress", "progress_default", "stage"]


def progress_default() -> bool:
    """Progress bars on for a terminal or a notebook kernel; ``KIT_PROGRESS=0|1`` overrides."""
    forced = os.environ.get("KIT_PROGRESS")
    if forced is not None:
        return forced not in ("0", "false", "no", "")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def match_library_progress() -> None:
    """Turn transformers' own progress bars (weight loading) on or off to match :func:`progress_default`."""
    from transformers.utils import logging

    logging.enable_progress_bar() if progress_default() else logging.disable_progress_bar()


def stage(name: str, message: str) -> None:
    """Print one summary line for a finished stage, e.g. ``[quantize] gptq w4g64 done in 70.1 s``.

    Args:
        name: the stage (``eval``, ``quantize``, ``gate``...).
        message: what happened, with the key number.
    """
    print(f"[{name}] {message}", flush=True)
