"""Run a notebook headless with papermill, its registry and runs folder in a scratch place.

Shared by the reports (a parameterised notebook executed for a reader), the notebook-time
benchmark and the tests that execute notebooks and exercises.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

__all__ = ["run_headless"]


def run_headless(
    *, notebook: str | os.PathLike[str], scratch: str | os.PathLike[str], parameters: dict[str, Any] | None = None,
    timeout: int = 600,
) -> Any:
    """Execute ``notebook`` with papermill, its registry, runs folder and executed copy in ``scratch``; return the copy.

    Args:
        notebook: the notebook to execute.
        scratch: folder for the registry, the runs and the executed copy (shared by calls that pass the same one).
        parameters: values for the ``parameters`` cell (its defaults when None).
        timeout: per-cell timeout in seconds.
    """
    import papermill as pm

    path, scratch = Path(notebook), Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {"KIT_REGISTRY": str(scratch / "registry.sqlite"), "KIT_RUNS": str(scratch / "runs"), "KIT_PROGRESS": "0"}
    with mock.patch.dict(os.environ, env):  # the kernel inherits it; restored afterwards
        return pm.execute_notebook(str(path), str(scratch / path.name), parameters=parameters or {},
                                   kernel_name="python3", cwd=str(path.parent), progress_bar=False,
                                   execution_timeout=timeout)
