"""Shared fixtures: the real embedded model, loaded once per test session."""

from __future__ import annotations

import os

import pytest
from helpers import synthetic_record  # tests/helpers.py

# KIT_PROGRESS, KIT_REGISTRY and KIT_RUNS are set to scratch values by the root conftest.py.


@pytest.fixture(scope="session")
def smol():
    """The fp32 sanctioned baseline of SmolLM2-135M-Instruct on CPU."""
    from kit.models import load_model

    return load_model("smollm2-135m", device="cpu")


# --- planted regressions (kit.debug): their real base artifacts and the rehearsal gate, shared by the
# end-to-end regression test and the headless pairing drill ---


@pytest.fixture(scope="module")
def planted_bases():
    """Recipe → its dense ``kit quantize`` artifact (built once into the cache, loaded once per module)."""
    from kit.debug.regressions import base_artifact, load_candidate

    cache = {}

    def get(spec):
        key = repr(sorted(spec.items()))
        if key not in cache:
            cache[key] = load_candidate(base_artifact(spec))
        return cache[key]
    return get


@pytest.fixture(scope="module")
def rehearsal_gates(smol):
    """(use case, tokens) → a ``GateOracle`` rehearsal (baseline scored once per module and size).

    ``tokens``: the plant's ``Regression.rehearsal_size()`` (the default ``REHEARSAL_TOKENS`` or its own, larger
    size); other sets are cut to ``kit.debug.oracle.REHEARSAL_ITEMS`` items.
    """
    from kit.debug.oracle import REHEARSAL_ITEMS, GateOracle

    cache = {}

    def get(use_case, tokens):
        if (use_case, tokens) not in cache:
            cache[use_case, tokens] = GateOracle(baseline=smol, use_case=use_case, max_tokens=tokens, limit=REHEARSAL_ITEMS)
        return cache[use_case, tokens]
    return get


# --- gate / registry (issue 4): synthetic harness records and registry targets ---

@pytest.fixture
def make_record():
    """Factory for synthetic harness records (see ``synthetic_record``)."""
    return synthetic_record


def _postgres_url():
    return os.environ.get("KIT_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL scoped to a fresh schema (dropped afterwards); skips without KIT_TEST_POSTGRES_URL."""
    url = _postgres_url()
    if not url:
        pytest.skip("KIT_TEST_POSTGRES_URL not set (start a server with scripts/start_postgres.sh)")
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"kit_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_target(request, tmp_path):
    """A fresh registry location on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    return request.getfixturevalue("postgres_url")


# --- quantization (issue 3): a 2-layer cut of the real model, so GPTQ/AWQ run in seconds ---


@pytest.fixture(scope="session")
def tiny_baseline(tmp_path_factory):
    """The first 2 of SmolLM2-135M's 30 decoder layers (real weights), saved as a baseline folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kit.models import resolve_path

    src = resolve_path("smollm2-135m")
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32, use_safetensors=True)
    model.model.layers = model.model.layers[:2]
    model.config.num_hidden_layers = 2
    out = tmp_path_factory.mktemp("tiny") / "smollm2-2layers"
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(src).save_pretrained(out)
    return out
