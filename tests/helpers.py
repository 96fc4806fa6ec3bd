"""Builders shared by test files: answer flips, a one-metric policy, the software stack entries record.

Import with ``from helpers import flip, PERPLEXITY_POLICY, STACK`` (tests/ is on the path, as for
``conftest``). Each builder is written once here instead of copied per file.
"""

from __future__ import annotations

from collections.abc import Sequence

from kit.govern.policy import MetricLimit, UseCasePolicy

__all__ = ["PERPLEXITY_POLICY", "STACK", "flip", "tiny_model"]

#: The software stack the synthetic registry entries were validated on.
STACK = {"packages": {"torch": "2.13.0+cpu", "transformers": "5.17.0"}, "device": "cpu", "gpu": None, "cpu_capability": None,
         "cuda_version": None, "engine": {"name": "reference", "backend": None, "activations": None}}

#: chat-assistant judged on perplexity alone (10 % relative), one sample enough: for registry and report plumbing.
PERPLEXITY_POLICY = UseCasePolicy(
    name="chat-assistant", description="test", default_method="bnb-int8", eval_sets=("stdlib-docs",),
    metrics=(MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative",
                         limit=0.10, min_samples=1),))


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
