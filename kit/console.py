"""Console conventions: when to show progress bars, and one summary line per stage."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["QUIET_LOGGERS", "hf_progress", "on_stage", "progress_default", "quiet_libraries", "stage"]

# Library loggers whose records go to the run's log file under quiet_libraries (not the notebook).
QUIET_LOGGERS = ("transformers", "bitsandbytes", "accelerate", "torch", "huggingface_hub", "datasets",
                 "compressed_tensors", "llmcompressor", "safetensors", "urllib3", "filelock")
_STAGE_LISTENERS: list[Callable[[str, str], None]] = []


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
    for listener in list(_STAGE_LISTENERS):
        listener(name, message)  # may raise (a cancelled run stops here, between stages)


@contextlib.contextmanager
def on_stage(listener: Callable[[str, str], None]) -> Iterator[None]:
    """Call ``listener(name, message)`` after every :func:`stage` line while the block runs.

    Args:
        listener: called in the thread that printed the stage; an exception it raises propagates there.
    """
    _STAGE_LISTENERS.append(listener)
    try:
        yield
    finally:
        _STAGE_LISTENERS.remove(listener)


class _StderrRouter:
    """``sys.stderr`` stand-in: one thread's writes go to the log, except the kit's own tqdm bars."""

    def __init__(self, original: TextIO, log: TextIO, thread: int) -> None:
        self._original, self._log, self._thread = original, log, thread

    def _to_log(self) -> bool:
        if threading.get_ident() != self._thread:
            return False
        frame, in_tqdm = sys._getframe(2), False
        while frame is not None:  # a tqdm frame called from a kit module = one of the kit's own bars
            module = frame.f_globals.get("__name__", "")
            if module.startswith("tqdm"):
                in_tqdm = True
            elif in_tqdm:
                return not module.startswith("kit.")
            frame = frame.f_back
        return True

    def write(self, text: str) -> int:
        return (self._log if self._to_log() else self._original).write(text)

    def flush(self) -> None:
        self._log.flush()
        self._original.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def quiet_libraries(log_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Send library warnings, library log records and this thread's stray stderr to ``log_path``.

    Third-party progress bars that write to stderr land there too; the kit's own tqdm bars and
    :func:`stage` lines (stdout) stay visible. Restores everything on exit. Used per run by the
    pilot panel, so a notebook shows no red warning blocks; the log keeps them.

    Args:
        log_path: the run's log file (appended to; its folder is created).
    """
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", buffering=1) as log:
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        saved = {}
        for name in QUIET_LOGGERS:
            lg = logging.getLogger(name)
            saved[name] = (lg.handlers[:], lg.propagate)
            lg.handlers, lg.propagate = [handler], False
        root = logging.getLogger()
        root.addHandler(handler)
        old_stderr = sys.stderr
        sys.stderr = _StderrRouter(old_stderr, log, threading.get_ident())
        with warnings.catch_warnings():
            warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: log.write(
                warnings.formatwarning(message, category, filename, lineno, line))
            try:
                yield path
            finally:
                sys.stderr = old_stderr
                root.removeHandler(handler)
                for name, (handlers, propagate) in saved.items():
                    lg = logging.getLogger(name)
                    lg.handlers, lg.propagate = handlers, propagate
