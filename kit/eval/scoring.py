"""Accuracy scorers: sliding-window perplexity (+ agreement), MC log-likelihood, generation match."""

from __future__ import annotations

import math
import re
import string
import time
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = ["make_windows", "score_generation", "score_multiple_choice", "score_perplexity", "score_perplexity_many"]

IGNORE = -100


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


def _batches(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _pad(rows: list[list[int]], pad: int, *, left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        span = slice(width - len(r), width) if left else slice(0, len(r))
        ids[i, span], mask[i, span] = torch.tensor(r, dtype=torch.long), 1
    return ids, mask


CHUNK_ROWS = 32  # positions per log-softmax block: 32 × vocab floats stay in cache, no (N, V) temporaries


def _scored_logits(model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's logits (B, L, V) and the (B, L-1) mask of positions whose next token is labelled."""
    device = next(model.parameters()).device
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
    return logits, (labels[:, 1:] != IGNORE).to(device)  # position t predicts token t+1


def _token_scores(logits: torch.Tensor, select: torch.Tensor, targets: torch.Tensor,
                  ref: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per scored token (row-major order): NLL, and with ``ref`` logits top-1 match and KL(ref ‖ model).

    The log-softmax runs on blocks of ``CHUNK_ROWS`` positions, so no (N, V) tensor is ever
    allocated; each row's arithmetic is the same as on the whole batch.

    Args:
        logits: the model's logits (B, L, V).
        select: (B, L-1) positions scored.
        targets: (N,) next-token ids at those positions, row-major.
        ref: the reference's logits on the same batch (B, L, V), or None.
    """
    out: dict[str, list[torch.Tensor]] = {"nll": [], "agree": [], "kl": []}
    k = 0
    for b in range(logits.shape[0]):
        pos = select[b].nonzero().squeeze(1)
        for s in range(0, pos.numel(), CHUNK_ROWS):
            p = pos[s:s + CHUNK_ROWS]
            t = targets[k:k + p.numel()]
            k += p.numel()
            lp = F.log_softmax(logits[b].index_select(0, p).float(), dim=-1)
            out["nll"].append(-lp.gather(1, t[:, None]).squeeze(1))
            if ref is logits:  # the reference scored against itself: every top-1 matches, KL is 0
                out["agree"].append(torch.ones(p.numel(), dtype=torch.long, device=lp.device))
                out["kl"].append(torch.zeros(p.numel(), device=lp.device))
            elif ref is not None:
                rp = F.log_softmax(ref[b].index_select(0, p).float(), dim=-1)
                out["agree"].append((rp.argmax(-1) == lp.argmax(-1)).long())
                out["kl"].append((rp.exp() * (rp - lp)).sum(-1))
    keys = ("nll",) if ref is None else ("nll", "agree", "kl")
    return {key: torch.cat(out[key]) if out[key] else torch.zeros(0, device=logits.device) for key in keys}


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


@torch.inference_mode()
def score_multiple_choice(
    model: Any, tokenizer: Any, items: Sequence[dict[str, Any]], *, batch_size: int,
    separator: str = " ", progress: bool = True,
) -> dict[str, Any]:
    """Accuracy by log-likelihood of each choice after the prompt: summed and per-character.

    Args:
        model: causal LM.
        tokenizer: its tokenizer.
        items: records with ``prompt``, ``choices``, ``answer``.
        batch_size: sequences per forward pass.
        separator: text placed between prompt and choice.
        progress: show a progress bar.
    """
    requests = []  # (item index, choice index, context ids, continuation ids)
    for i, item in enumerate(items):
        ctx = tokenizer(item["prompt"], add_special_tokens=False).input_ids
        for j, choice in enumerate(item["choices"]):
            requests.append((i, j, ctx, tokenizer(separator + choice, add_special_tokens=False).input_ids))
    order = sorted(range(len(requests)), key=lambda k: -len(requests[k][2]) - len(requests[k][3]))
    loglik = [[0.0] * len(it["choices"]) for it in items]
    for chunk in tqdm(list(_batches(order, batch_size)), desc="multiple choice", unit="batch", disable=not progress):
        rows = [requests[k][2] + requests[k][3] for k in chunk]
        ids, mask = _pad(rows, tokenizer.pad_token_id)
        labels = torch.full_like(ids, IGNORE)
        for r, k in enumerate(chunk):
            c, m = len(requests[k][2]), len(requests[k][3])
            labels[r, c:c + m] = ids[r, c:c + m]
        logits, select = _scored_logits(model, ids, mask, labels)
        picked = -_token_scores(logits, select, labels[:, 1:][labels[:, 1:] != IGNORE].to(logits.device))["nll"]
        sums = torch.split(picked, [len(requests[k][3]) for k in chunk])
        for k, s in zip(chunk, sums):
            i, j = requests[k][0], requests[k][1]
            loglik[i][j] = float(s.sum())
    correct_sum, correct_norm = [], []
    for item, ll in zip(items, loglik):
        norm = [v / max(len(c), 1) for v, c in zip(ll, item["choices"])]
        correct_sum.append(int(max(range(len(ll)), key=ll.__getitem__) == item["answer"]))
        correct_norm.append(int(max(range(len(norm)), key=norm.__getitem__) == item["answer"]))
    n = len(items)
    return {"accuracy": sum(correct_norm) / n, "accuracy_sum": sum(correct_sum) / n, "items": n,
            "primary": "accuracy (length-normalised: log-likelihood / characters)",
            "correct": correct_norm, "correct_sum": correct_sum,
            "ids": [str(it.get("id", i)) for i, it in enumerate(items)]}


def _normalise(text: str) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return re.sub(r"\s+", " ", text).strip()


@torch.inference_mode()
def score_generation(
    model: Any, tokenizer: Any, items: Sequence[dict[str, Any]], *, max_new_tokens: int,
    batch_size: int, chat_template: bool, progress: bool = True,
) -> dict[str, Any]:
    """Greedy answers scored by exact match and by word-bounded containment of the reference.

    Args:
        model: causal LM.
        tokenizer: its tokenizer.
        items: records with ``prompt``, ``reference`` and optional ``aliases``.
        max_new_tokens: tokens generated per answer.
        batch_size: prompts per generate call (left-padded).
        chat_template: wrap each prompt as a user turn with the tokenizer's chat template.
        progress: show a progress bar.
    """
    device = next(model.parameters()).device
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": it["prompt"]}], tokenize=False,
                                             add_generation_prompt=True) if chat_template else it["prompt"]
               for it in items]
    answers: list[str] = []
    for chunk in tqdm(list(_batches(prompts, batch_size)), desc="generation", unit="batch", disable=not progress):
        ids, mask = _pad([tokenizer(p, add_special_tokens=False).input_ids for p in chunk],
                         tokenizer.pad_token_id, left=True)
        out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                             max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
        answers += tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)
    exact, contains = [], []
    for item, answer in zip(items, answers):
        refs = [_normalise(r) for r in [item["reference"], *item.get("aliases", [])]]
        got = _normalise(answer)
        exact.append(int(got in refs))
        contains.append(int(any(re.search(rf"\b{re.escape(r)}\b", got) for r in refs if r)))
    n = len(items)
    return {"exact_match": sum(exact) / n, "contains_match": sum(contains) / n, "items": n,
            "primary": "contains_match", "correct": contains, "exact": exact, "answers": answers,
            "ids": [str(it.get("id", i)) for i, it in enumerate(items)]}
