"""Repository-wide pytest setup: a scratch registry/runs folder, and nbval's reference outputs.

Loaded for tests/, notebooks/ and solutions/ alike, so notebooks executed by nbval (their
kernels inherit this environment) never touch the user's registry or runs folder.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIT_PROGRESS", "0")  # no progress bars in test logs
_SCRATCH = tempfile.mkdtemp(prefix="kit-tests-")
os.environ.setdefault("KIT_REGISTRY", os.path.join(_SCRATCH, "registry.sqlite"))
os.environ.setdefault("KIT_RUNS", os.path.join(_SCRATCH, "runs"))
os.environ.setdefault("KIT_RECORD_CACHE", os.path.join(_SCRATCH, "records"))  # baseline records: never the user's cache
os.environ.setdefault("KIT_PROGRESS_LOG", os.path.join(_SCRATCH, "progress.json"))  # learner progress (kit progress)


def pytest_collection_modifyitems(config, items):
    """Cells tagged ``nbval-check-output`` are compared with ``tests/notebook_outputs/`` (tests/nbrefs.py)."""
    from tests.nbrefs import attach

    attach(items)
