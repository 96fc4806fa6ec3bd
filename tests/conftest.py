"""Shared fixtures: the real embedded model, loaded once per test session."""

from __future__ import annotations

import math
import os
import random

import pytest

# KIT_PROGRESS, KIT_REGISTRY and KIT_RUNS are set to scratch values by the root conftest.py.


@pytest.fixture(scope="session")
def smol():
    """The fp32 sanctioned baseline of SmolLM2-135M-Instruct on CPU."""
    from kit.models import load_model

    return load_model("smollm2-135m", device="cpu")


# --- gate / registry (issue 4): synthetic harness records and registry targets ---

BASE_SHA = "b" * 64
_SET_SHA = {"text": "1" * 64, "multiple_choice": "2" * 64, "generation": "3" * 64}
_SET_NAME = {"text": "stdlib-docs", "multiple_choice": "everyday-mc", "generation": "short-answers"}


def _split(total, tokens, seed, spread, jitter):
    """``total`` over 511-token windows: ±``spread`` shared by every model (the text), ±``jitter`` per ``seed``."""
    text, own = random.Random(f"text{tokens}"), random.Random(seed)
    sizes = [511] * (tokens // 511) + ([tokens % 511] if tokens % 511 else [])
    weights = [size * (1 + spread * (2 * text.random() - 1)) * (1 + jitter * (2 * own.random() - 1)) for size in sizes]
    return [total * w / sum(weights) for w in weights], sizes


def synthetic_record(
    *, kind="text", sha=BASE_SHA, baseline_sha=BASE_SHA, method="none", bits=None, perplexity=11.71, tokens=24558,
    correct=None, top1=None, kl=None, set_sha=None, protocol=None, torch_version="2.13.0+cpu", ref=None,
    spread=0.1, jitter=0.005, per_window=True,
):
    """A small kit.eval/1 record as JSON data, built from ``EvalRecord`` (only the fields the gate/registry read).

    Text records carry per-window sums (512-token windows): windows differ by ±``spread`` (the
    text: easy and hard passages, the same for every model) and by ±``jitter`` seeded by
    ``sha`` (how this model differs window by window); ``per_window=False`` gives a record
    as written before the gate's bootstrap.
    """
    from kit.eval.record import METRICS, PRIMARY, EvalRecord

    primary = METRICS[PRIMARY[kind]]
    if kind == "text":
        accuracy = {primary.key: perplexity, primary.count: tokens}
        proto = {"kind": kind, "context_length": 512, "stride": 512, "max_tokens": None}
        if per_window:
            nll, sizes = _split(math.log(perplexity) * tokens, tokens, f"{sha}nll", spread, jitter)
            accuracy["per_window"] = {"nll": nll, "tokens": sizes}
    else:
        correct = list(correct if correct is not None else [1, 0] * 100)
        accuracy = {primary.key: sum(correct) / len(correct), primary.count: len(correct), "correct": correct,
                    "ids": [f"q{i}" for i in range(len(correct))]}
        proto = {"kind": kind, "limit": None}
    top, kl_spec = METRICS["top1_agreement"], METRICS["kl_mean"]
    agreement = {top.key: top1, kl_spec.key: kl, top.count: tokens} if top1 is not None else None
    if agreement and per_window:
        agreement["per_window"] = {"top1": _split(top1 * tokens, tokens, f"{sha}top1", spread, jitter)[0],
                                   "kl": _split((kl or 0.0) * tokens, tokens, f"{sha}kl", spread, jitter)[0]}
    weight_bytes = 538060288 if sha == BASE_SHA else 150_000_000
    return EvalRecord(
        model={"ref": ref or ("smollm2-135m" if sha == BASE_SHA else f"runs/{method}"), "sha256": sha,
               "method": method, "bits": bits, "baseline": {"ref": "smollm2-135m", "sha256": baseline_sha},
               "weight_bytes": weight_bytes},
        baseline={"ref": "smollm2-135m", "sha256": baseline_sha} if agreement else None,
        eval_set={"name": _SET_NAME[kind], "kind": kind, "sha256": set_sha or _SET_SHA[kind],
                  "records": len(accuracy.get("correct", [])) or 117},
        protocol=protocol or proto,
        accuracy=accuracy,
        agreement=agreement,
        latency=None,
        throughput={},
        memory={"weight_bytes": weight_bytes, "peak_rss_bytes": 10**9},
        environment={"packages": {"torch": torch_version, "transformers": "5.17.0"}, "hardware": {"device": "cpu"}},
    ).to_dict()


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
