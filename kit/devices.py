"""Which device a command runs on: the automatic choice, and a requested one checked before any work starts."""

from __future__ import annotations

import re

from kit.errors import KitError

__all__ = ["check_device", "default_device"]

_DEVICE = re.compile(r"^(cpu|cuda(:[0-9]+)?)$")


def default_device() -> str:
    """``cuda`` when a CUDA GPU is visible, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(device: str | None) -> str:
    """``device`` if it names a usable device (``cpu``, ``cuda``, ``cuda:N``), else a one-line error; automatic when None.

    Args:
        device: the requested device.
    """
    if device is None:
        return default_device()
    if not isinstance(device, str) or not _DEVICE.match(device):
        raise KitError(f"unknown device {device!r}; use --device cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise KitError(f"device '{device}' requested but no CUDA GPU is visible; use --device cpu")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise KitError(f"device '{device}' requested but only {torch.cuda.device_count()} GPU(s) are visible; "
                           f"use cuda:0..cuda:{torch.cuda.device_count() - 1}")
    return device
