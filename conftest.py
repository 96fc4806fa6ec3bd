"""Repository-wide pytest setup: a scratch registry/runs folder, and nbval's reference outputs.

Loaded for tests/, notebooks/ and solutions/ alike, so notebooks executed by nbval (their
kernels inherit this environment) never touch the user's registry or runs folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("KIT_PROGRESS", "0")  # no progress bars in test logs
_SCRATCH = tempfile.mkdtemp(prefix="kit-tests-")
os.environ.setdefault("KIT_REGISTRY", os.path.join(_SCRATCH, "registry.sqlite"))
os.environ.setdefault("KIT_RUNS", os.path.join(_SCRATCH, "runs"))
os.environ.setdefault("KIT_RECORD_CACHE", os.path.join(_SCRATCH, "records"))  # baseline records: never the user's cache
os.environ.setdefault("KIT_PROGRESS_LOG", os.path.join(_SCRATCH, "progress.json"))  # learner progress (kit progress)
os.environ.pop("KIT_MLFLOW_URI", None)  # test pilots never mirror into the user's MLflow (tests set it themselves)
os.environ.setdefault("KIT_LOGS", os.path.join(_SCRATCH, "logs"))  # kit commands' library-noise logs


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects (make test-fast)
def pytest_collection_modifyitems(config, items):
    """Notebook cells are ``slow``; cells tagged ``nbval-check-output`` are compared with ``tests/notebook_outputs/``.

    The references live in tests/nbrefs.py.
    """
    from tests.nbrefs import attach

    for item in items:
        if item.path.suffix == ".ipynb":  # nbval executes the whole notebook: minutes, not seconds
            item.add_marker(pytest.mark.slow)
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
    """Remove the scratch folder (the notebooks' runs take GBs); merge notebook times into $KIT_NOTEBOOK_TIMES."""
    shutil.rmtree(_SCRATCH, ignore_errors=True)  # made by this file; the environment may point elsewhere
    _write_notebook_times()


def _write_notebook_times():
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
