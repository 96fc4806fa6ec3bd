"""Accuracy scorers: sliding-window perplexity (+ agreement); MC log-likelihood and generation match re-exported.

The item scorers live in :mod:`kit.eval.scoring_items` (they share the helpers here).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from kit.eval.scoring_batches import CHUNK_ROWS, IGNORE, _batches, _pad, _scored_logits, _token_scores
from kit.eval.scoring_items import score_generation, score_multiple_choice

__all__ = ["CHUNK_ROWS", "IGNORE", "make_windows",
           "score_generation", "score_multiple_choice", "score_perplexity", "score_perplexity_many"]


def make_windows(n_tokens: int, *, context_length: int, stride: int) -> list[tuple[int, int, int]]:
    """Sliding windows ``(begin, end, first_scored)`` that score every token but the first exactly once.

    Each window scores the tokens ``[first_scored, end)`` with everything from ``begin`` as
    context. The step is ``stride`` capped at ``context_length - 1``, so consecutive windows
    overlap by at least one token and no scored token lacks context (as in lm-eval's
    rolling windows); the first window scores ``context_length - 1`` tokens.

    Args:
        n_tokens: length of the token stream.
        context_length: tokens per forward pass (≥2).
        stride: tokens scored per window after the first (1..context_length).
    """
    if context_length < 2 or not 0 < stride <= context_length:
        raise ValueError(f"need context_length ≥2 and stride in 1..{context_length}, got {context_length}/{stride}")
    step = min(stride, context_length - 1)
    windows, first = [], 1  # token 0 has no context, so scoring starts at 1
    while first < n_tokens:
        end = min(first + (step if windows else context_length - 1), n_tokens)
        windows.append((max(0, end - context_length), end, first))
        first = end
    return windows


@torch.inference_mode()
def score_perplexity(
    model: Any, token_ids: Sequence[int], *, context_length: int, stride: int, batch_size: int,
    pad_id: int, reference: Any | None = None, progress: bool = True,
    windows: Sequence[tuple[int, int, int]] | None = None,
) -> dict[str, Any]:
    """Token-level perplexity over sliding windows; with ``reference``, top-1 agreement and KL.

    Besides the totals, ``per_window`` holds each window's NLL sum and scored tokens (and,
    with ``reference``, its top-1 matches and KL sum), so the gate can bootstrap over windows.

    Args:
        model: causal LM.
        token_ids: the whole tokenised text.
        context_length: tokens per window.
        stride: step between windows.
        batch_size: windows per forward pass.
        pad_id: id used to pad the last, shorter window.
        reference: a baseline causal LM scored on the same tokens (same tokenizer).
        progress: show a progress bar.
        windows: the windows to score, in order (a subset of :func:`make_windows`); all of them when None.
    """
    scores, _ = score_perplexity_many([model], token_ids, context_length=context_length, stride=stride,
                                      batch_size=batch_size, pad_id=pad_id, reference=reference, progress=progress,
                                      windows=windows)
    return scores[0]


class _Totals:
    """One model's running sums over windows (and its forward-pass seconds)."""

    def __init__(self) -> None:
        self.nll, self.n, self.agree, self.kl, self.seconds = 0.0, 0, 0, 0.0, 0.0
        self.per_nll: list[float] = []
        self.per_n: list[int] = []
        self.per_agree: list[int] = []
        self.per_kl: list[float] = []

    def add(self, scores: dict[str, torch.Tensor], sizes: list[int]) -> None:
        token_nll = scores["nll"]  # (N,)
        self.per_nll += [float(x.sum()) for x in torch.split(token_nll, sizes)]
        self.per_n += sizes
        self.nll += float(token_nll.sum())
        self.n += int(token_nll.numel())
        if "agree" in scores:
            token_agree, token_kl = scores["agree"], scores["kl"]  # (N,) top-1 match, KL(baseline ‖ model) nats
            self.per_agree += [int(x.sum()) for x in torch.split(token_agree, sizes)]
            self.per_kl += [float(x.sum()) for x in torch.split(token_kl, sizes)]
            self.agree += int(token_agree.sum())
            self.kl += float(token_kl.sum())

    def result(self, windows: int, agreement: bool) -> dict[str, Any]:
        n = self.n
        out: dict[str, Any] = {"perplexity": math.exp(self.nll / n), "nll_per_token": self.nll / n,
                               "tokens_scored": n, "windows": windows,
                               "per_window": {"nll": [round(x, 4) for x in self.per_nll], "tokens": self.per_n}}
        if agreement:
            out["agreement"] = {"top1": self.agree / n, "kl_mean": max(self.kl / n, 0.0), "tokens": n,
                                "per_window": {"top1": self.per_agree, "kl": [round(x, 6) for x in self.per_kl]}}
        return out


@torch.inference_mode()
def score_perplexity_many(
    models: Sequence[Any], token_ids: Sequence[int], *, context_length: int, stride: int, batch_size: int,
    pad_id: int, reference: Any | None = None, progress: bool = True,
    windows: Sequence[tuple[int, int, int]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`score_perplexity` for several models at once, sharing one ``reference`` pass per window batch.

    Each window batch runs the reference once and every model on the same batch, so N candidates
    cost N + 1 forward passes instead of 2N; each model's scores equal what :func:`score_perplexity`
    gives it alone. A model that *is* the reference reuses the reference's pass.

    Args:
        models: causal LMs (all loaded; same tokenizer).
        token_ids: the whole tokenised text.
        context_length: tokens per window.
        stride: step between windows.
        batch_size: windows per forward pass.
        pad_id: id used to pad the last, shorter window.
        reference: a baseline causal LM for agreement (top-1, KL), or None.
        progress: show a progress bar.
        windows: the windows to score, in order (a subset of :func:`make_windows`); all of them when None.

    Returns:
        (one score dict per model, in order; forward-pass seconds ``{"models": [...], "reference": s}``).
    """
    if windows is None:
        windows = make_windows(len(token_ids), context_length=context_length, stride=stride)
    totals = [_Totals() for _ in models]
    ref_seconds = 0.0
    for chunk in tqdm(list(_batches(windows, batch_size)), desc="perplexity", unit="batch", disable=not progress):
        rows = [list(token_ids[b:e]) for b, e, _ in chunk]
        ids, mask = _pad(rows, pad_id)
        labels = torch.full_like(ids, IGNORE)
        for i, (b, e, first) in enumerate(chunk):
            labels[i, first - b:e - b] = ids[i, first - b:e - b]
        targets = labels[:, 1:][labels[:, 1:] != IGNORE]
        sizes = [e - first for _, e, first in chunk]  # scored tokens per window, in row order
        ref = select = None
        if reference is not None:
            t0 = time.perf_counter()
            ref, select = _scored_logits(reference, ids, mask, labels)
            ref_seconds += time.perf_counter() - t0
        for model, total in zip(models, totals):
            t0 = time.perf_counter()
            logits, select = (ref, select) if ref is not None and model is reference \
                else _scored_logits(model, ids, mask, labels)
            scores = _token_scores(logits, select, targets.to(logits.device),
                                   None if ref is None else ref.to(logits.device))
            total.seconds += time.perf_counter() - t0
            total.add(scores, sizes)
    seconds = {"models": [t.seconds for t in totals], "reference": ref_seconds}
    return [t.result(len(windows), reference is not None) for t in totals], seconds


