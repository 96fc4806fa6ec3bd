"""The pairing notebook and its solution run headless with their default parameters (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("path", [ROOT / "notebooks" / "09_pairing_debug_a_regression.ipynb",
                                  ROOT / "solutions" / "ex06_debug_a_regression.ipynb"], ids=lambda p: p.stem)
def test_runs_headless(path, tmp_path):
    from kit.report.papermill_run import run_headless

    nb = run_headless(notebook=path, scratch=tmp_path, timeout=300)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "✓ diagnosis of misscaled-down-proj matches" in text
    assert "gate code-completion/quick-256-20: PASS" in text
