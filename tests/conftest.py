"""Shared fixtures: the real embedded model, loaded once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KIT_PROGRESS", "0")  # no progress bars in test logs


@pytest.fixture(scope="session")
def smol():
    """The fp32 sanctioned baseline of SmolLM2-135M-Instruct on CPU."""
    from kit.models import load_model

    return load_model("smollm2-135m", device="cpu")
