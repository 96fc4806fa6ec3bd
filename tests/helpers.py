"""Builders shared by test files: answer flips, a one-metric policy, the software stack entries record.

Import with ``from helpers import flip, PERPLEXITY_POLICY, STACK`` (tests/ is on the path, as for
``conftest``). Each builder is written once here instead of copied per file.
"""

from __future__ import annotations

import contextlib
import math
import random
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from kit.govern.policy import MetricLimit, UseCasePolicy

__all__ = ["BASE_SHA", "PERPLEXITY_POLICY", "STACK", "flip", "scratch", "scratch_baselines", "synthetic_record",
           "tiny_model"]

#: The software stack the synthetic registry entries were validated on.
STACK = {"packages": {"torch": "2.13.0+cpu", "transformers": "5.17.0"}, "device": "cpu", "gpu": None, "cpu_capability": None,
         "cuda_version": None, "engine": {"name": "reference", "backend": None, "activations": None}}

#: chat-assistant judged on perplexity alone (10 % relative), one sample enough: for registry and report plumbing.
PERPLEXITY_POLICY = UseCasePolicy(
    name="chat-assistant", description="test", default_method="bnb-int8", eval_sets=("stdlib-docs",),
    metrics=(MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative",
                         limit=0.10, min_samples=1),))


@contextlib.contextmanager
def scratch(factory, name: str) -> Iterator[Path]:
    """A ``tmp_path_factory`` folder removed when the block ends (a module's models take hundreds of MB).

    pytest removes a passing test's ``tmp_path`` at once (``tmp_path_retention_policy = "failed"``) but
    keeps ``mktemp`` folders to the session's end; fixtures that save models use this instead.

    Args:
        factory: the ``tmp_path_factory`` fixture.
        name: the folder's name stem.
    """
    path = factory.mktemp(name)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def flip(correct: Sequence[int], *, lost: int, gained: int) -> list[int]:
    """``correct`` with its first ``lost`` right answers turned wrong and its first ``gained`` wrong ones right.

    Args:
        correct: per-item 1/0 answers.
        lost: right answers to turn wrong.
        gained: wrong answers to turn right.
    """
    out = list(correct)
    right = [i for i, c in enumerate(out) if c][:lost]
    wrong = [i for i, c in enumerate(out) if not c][:gained]
    for i in right:
        out[i] = 0
    for i in wrong:
        out[i] = 1
    return out


def tiny_model(folder, *, family: str, tokenizer_from=None, vocab: int = 64):
    """A random-weights causal LM of ``family`` (``llama``, ``qwen2``, ``gpt2``): 2 layers, width 64, saved to ``folder``.

    With ``tokenizer_from`` (a model folder) it takes that tokenizer and its vocabulary size, so the
    harness can run it; accuracy is meaningless, the plumbing is what is tested.

    Args:
        folder: where to save it (created).
        family: the architecture.
        tokenizer_from: a folder holding the tokenizer to ship with it (none when None).
        vocab: the vocabulary size without a tokenizer.
    """
    import torch
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(tokenizer_from) if tokenizer_from else None
    size = len(tok) if tok is not None else vocab
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id} if tok is not None else {}
    torch.manual_seed(0)
    if family == "gpt2":
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=size, n_embd=64, n_layer=2, n_head=4,
                                                                     n_positions=512, **ids))
    else:
        config_cls, model_cls = {"llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
                                 "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM)}[family]
        model = model_cls(config_cls(vocab_size=size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                                     tie_word_embeddings=True, **ids))
    model.save_pretrained(folder)
    if tok is not None:
        tok.save_pretrained(folder)
    return folder



def scratch_baselines(tmp_path, monkeypatch, *, policy: str, baselines: dict[str, str]):
    """Tiny random baselines added with `kit baseline add` to a scratch store, and ``policy`` as $KIT_POLICIES.

    Args:
        tmp_path: the test's folder (the store, the policy file and the models go there).
        monkeypatch: the test's monkeypatch (sets KIT_CACHE and KIT_POLICIES).
        policy: the policy file's YAML text.
        baselines: baseline name → architecture (``llama``, ``qwen2``, ``gpt2``), each with SmolLM2's tokenizer.
    """
    from kit.cli.main import main
    from kit.models import prepare_baseline

    tokenizer = prepare_baseline("smollm2-135m")  # in the real cache, before the scratch one is set
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    (tmp_path / "policies.yaml").write_text(policy)
    monkeypatch.setenv("KIT_POLICIES", str(tmp_path / "policies.yaml"))
    for name, family in baselines.items():
        folder = tiny_model(tmp_path / family, family=family, tokenizer_from=tokenizer)
        assert main(["baseline", "add", name, "--from", str(folder)]) == 0
        assert main(["baseline", "verify", name]) == 0
    return tmp_path

# --- gate / registry: synthetic harness records ---

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
