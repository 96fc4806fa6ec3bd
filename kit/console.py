"""Console conventions: when to show progress bars, and one summary line per stage."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["hf_progress", "progress_default", "stage"]


def progress_default() -> bool:
    """Progress bars on for a terminal or a notebook kernel; ``KIT_PROGRESS=0|1`` overrides."""
    forced = os.environ.get("KIT_PROGRESS")
    if forced is not None:
        return forced not in ("0", "false", "no", "")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


@contextlib.contextmanager
def hf_progress(enabled: bool) -> Iterator[None]:
    """Turn transformers' own progress bars (loading/writing weights) on or off, then restore.

    Args:
        enabled: show them.
    """
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if before else hf_logging.disable_progress_bar)()


def stage(name: str, message: str) -> None:
    """Print one summary line for a finished stage, e.g. ``[quantize] gptq w4g64 done in 70.1 s``.

    Args:
        name: the stage (``eval``, ``quantize``, ``gate``...).
        message: what happened, with the key number.
    """
    print(f"[{name}] {message}", flush=True)
