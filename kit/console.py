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

__all__ = ["QUIET_LOGGERS", "hf_progress", "log_folder", "on_stage", "progress_default", "quiet_cli", "quiet_libraries",
           "stage"]

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
    """``sys.stderr`` stand-in: one thread's writes go to the log, except the kit's own (tqdm bars, ``print``)."""

    def __init__(self, original: TextIO, log: Any, thread: int, *, echo: bool = False) -> None:
        self._original, self._log, self._thread, self._echo = original, log, thread, echo
        self.active = True  # False once its run ended: a library that kept this stream writes to the real one

    def _to_log(self) -> bool:
        if not self.active or threading.get_ident() != self._thread:
            return False
        frame = sys._getframe(2)
        while frame is not None and frame.f_globals.get("__name__", "").startswith("tqdm"):
            frame = frame.f_back  # a tqdm bar: the module that made it decides
        return frame is None or not frame.f_globals.get("__name__", "").startswith("kit.")

    def write(self, text: str) -> int:
        if not self._to_log():
            return self._original.write(text)
        if self._echo:
            self._original.write(text)
        return self._log.write(text)

    def flush(self) -> None:
        self._log.flush()
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()  # the kit's own bars follow the real terminal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _LazyLog:
    """A log file opened (its folder created) at the first write, so a run with nothing to keep leaves nothing."""

    def __init__(self, path: Path, fallback: Path) -> None:
        self.path, self._fallback, self._file, self._closed = path, fallback, None, False

    def write(self, text: str) -> int:
        if not text or self._closed:
            return len(text)
        if self._file is None:
            for path in (self.path, self._fallback):  # an unwritable folder must not stop the command
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 — closed by close()
                    self.path = path
                    break
                except OSError:
                    continue
            else:
                return len(text)
        return self._file.write(text)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        self._closed = True
        if self._file is not None:
            self._file.close()
            self._file = None


@contextlib.contextmanager
def quiet_libraries(log_path: str | os.PathLike[str], *, echo: bool = False) -> Iterator[Path]:
    """Send library warnings, library log records and this thread's stray stderr to ``log_path``.

    Third-party progress bars that write to stderr land there too; the kit's own tqdm bars, its
    own stderr lines and :func:`stage` lines (stdout) stay visible. Restores everything on exit.
    Used per run by the pilot panel (a notebook shows no red warning blocks) and by every ``kit``
    command (:func:`quiet_cli`); the log keeps them. The file (and its folder) is created at the
    first message; when its folder cannot be written, the log goes to the temp folder instead.

    Args:
        log_path: the run's log file (appended to).
        echo: also show everything on the real stderr (``kit --debug``).
    """
    import tempfile

    path = Path(log_path)
    log = _LazyLog(path, Path(tempfile.gettempdir()) / "quant-kit-logs" / path.name)
    try:
        old_stderr = sys.stderr
        handlers: list[logging.Handler] = [logging.StreamHandler(log)] + ([logging.StreamHandler(old_stderr)] if echo else [])
        for handler in handlers:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        saved = {}
        for name in QUIET_LOGGERS:
            lg = logging.getLogger(name)
            saved[name] = (lg.handlers[:], lg.propagate)
            lg.handlers, lg.propagate = list(handlers), False
        root = logging.getLogger()
        for handler in handlers:
            root.addHandler(handler)  # any other library's records (no handler of their own) land here too
        router = sys.stderr = _StderrRouter(old_stderr, log, threading.get_ident(), echo=echo)
        with warnings.catch_warnings():
            shown = warnings.showwarning

            def keep(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
                log.write(warnings.formatwarning(message, category, filename, lineno, line))
                if echo:
                    shown(message, category, filename, lineno, old_stderr, line)

            warnings.showwarning = keep
            try:
                yield path
            finally:
                router.active = False
                sys.stderr = old_stderr
                for handler in handlers:
                    root.removeHandler(handler)
                for name, (kept, propagate) in saved.items():
                    lg = logging.getLogger(name)
                    lg.handlers, lg.propagate = kept, propagate
    finally:
        log.close()


def log_folder() -> Path:
    """Where ``kit`` commands keep third-party messages: ``$KIT_LOGS``, else ``logs/`` in the kit's cache folder."""
    from kit.io import cache_dir

    root = os.environ.get("KIT_LOGS")
    return Path(root).expanduser() if root else cache_dir() / "logs"


_KEEP_LOGS = 50


@contextlib.contextmanager
def quiet_cli(*, command: str, echo: bool = False) -> Iterator[Path]:
    """One ``kit`` command's run: library warnings, log records and progress bars go to its log file, not the terminal.

    The log is ``<cache>/logs/<UTC time>-<command>-<pid>.log``, created at the first message (a
    quiet run, or one refused before any work, writes nothing); only the newest :data:`_KEEP_LOGS`
    are kept. ``kit --debug`` shows the messages as well.

    Args:
        command: the command's name, for the file name (``pilot``, ``debug``...).
        echo: also show them on stderr.
    """
    from kit.clock import folder_stamp

    stamp = folder_stamp()
    folder = log_folder()
    path = folder / f"{stamp}-{command.replace(' ', '-')}-{os.getpid()}.log"
    try:
        with quiet_libraries(path, echo=echo):
            yield path
    finally:
        with contextlib.suppress(OSError):
            for old in sorted(folder.glob("*.log"))[:-_KEEP_LOGS]:
                old.unlink()
