"""Item scorers: multiple-choice log-likelihood accuracy and generation (exact / contains) match.

They share the batching and token-scoring helpers of :mod:`kit.eval.scoring_batches` with the
perplexity scorers and stay importable from :mod:`kit.eval.scoring` as before.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from kit.eval.scoring_batches import IGNORE, _batches, _pad, _scored_logits, _token_scores

__all__ = ["score_generation", "score_multiple_choice"]


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
