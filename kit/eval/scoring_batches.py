"""The scorers' shared machinery: batching, padding, and log-softmax scores of chosen tokens in small blocks.

Used by the perplexity scorers (:mod:`kit.eval.scoring`) and the item scorers (:mod:`kit.eval.scoring_items`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["CHUNK_ROWS", "IGNORE"]


IGNORE = -100


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
