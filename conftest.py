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
os.environ.setdefault("KIT_LOGS", os.path.join(_SCRATCH, "logs"))  # kit commands' library-noise logs


def pytest_collection_modifyitems(config, items):
    """Cells tagged ``nbval-check-output`` are compared with ``tests/notebook_outputs/`` (tests/nbrefs.py)."""
    from tests.nbrefs import attach

    attach(items)


# --- notebook run times for `kit onboarding` (only when KIT_NOTEBOOK_TIMES names a file) ---
_NB_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Sum each notebook's cell times (setup + call) as nbval runs it."""
    path = report.nodeid.split("::", 1)[0]
    if os.environ.get("KIT_NOTEBOOK_TIMES") and path.endswith(".ipynb") and report.when in ("setup", "call"):
        stem = os.path.splitext(os.path.basename(path))[0]
        _NB_SECONDS[stem] = _NB_SECONDS.get(stem, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    """Merge the measured notebook times into $KIT_NOTEBOOK_TIMES (the `kit onboarding --times` format)."""
    target = os.environ.get("KIT_NOTEBOOK_TIMES")
    if not target or not _NB_SECONDS:
        return
    import json

    from kit.io import atomic_write_json

    try:
        with open(target, encoding="utf-8") as fh:
            old = json.load(fh)
    except (OSError, ValueError):
        old = {}
    note = os.environ.get("KIT_NOTEBOOK_TIMES_NOTE", "nbval run inside make test")
    atomic_write_json(target, {"seconds": {**old.get("seconds", {}), **{k: round(v, 1) for k, v in _NB_SECONDS.items()}},
                               "notes": {**old.get("notes", {}), **{k: note for k in _NB_SECONDS}}})
