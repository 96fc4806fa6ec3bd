"""Builders shared by test files: answer flips, a one-metric policy, the software stack entries record.

Import with ``from helpers import flip, PERPLEXITY_POLICY, STACK`` (tests/ is on the path, as for
``conftest``). Each builder is written once here instead of copied per file.
"""

from __future__ import annotations

from collections.abc import Sequence

from kit.govern.policy import MetricLimit, UseCasePolicy

__all__ = ["PERPLEXITY_POLICY", "STACK", "flip"]

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
