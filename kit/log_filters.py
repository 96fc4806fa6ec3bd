"""Logging filters for third-party libraries whose messages repeat (kept below every room that loads models).

:mod:`kit.models` (loading a saved bitsandbytes artifact) and the bitsandbytes adapter
(quantizing one) both quiet the same LLM.int8 cast warning, so the filter lives here.
"""

from __future__ import annotations

import logging

__all__ = ["quiet_int8_cast_warning"]


class _Once(logging.Filter):
    """Let each distinct message through once (bitsandbytes logs its cast on every int8 matmul)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if msg in self.seen:
            return False
        self.seen.add(msg)
        return True


def quiet_int8_cast_warning() -> None:
    """Show bitsandbytes' "inputs will be cast ... to float16" warning once instead of per matmul."""
    log = logging.getLogger("bitsandbytes.autograd._functions")
    if not any(isinstance(f, _Once) for f in log.filters):
        log.addFilter(_Once())
