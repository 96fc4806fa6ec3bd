"""Harness perplexity throughput as a ratio to a bare batched forward loop over the same tokens.

Run: ``python benchmarks/harness_throughput.py [--tokens 4096] [--context-length 512] [--repeats 3]``.
Both loops see the same windows and batch size; they alternate so machine noise hits both.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from kit.eval.harness import tokens_for
from kit.eval.scoring import make_windows, score_perplexity
from kit.eval.sets import load_set
from kit.models import DEFAULT_MODEL, load_model


@torch.inference_mode()
def bare_loop(model, ids: list[int], windows, batch_size: int) -> int:
    """Forward every window (no scoring beyond the logits) and return the tokens processed."""
    n = 0
    for i in range(0, len(windows), batch_size):
        chunk = windows[i:i + batch_size]
        width = max(e - b for b, e, _ in chunk)
        batch = torch.full((len(chunk), width), 0, dtype=torch.long)
        for r, (b, e, _) in enumerate(chunk):
            batch[r, : e - b] = torch.tensor(ids[b:e])
        model(input_ids=batch).logits.sum()
        n += sum(e - f for _, e, f in chunk)
    return n


def main() -> None:
    """Print tokens/s for both loops and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--eval", default="stdlib-docs")
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--context-length", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    loaded = load_model(args.model)
    ids = tokens_for(load_set(args.eval), loaded.tokenizer, max_tokens=args.tokens)
    windows = make_windows(len(ids), context_length=args.context_length, stride=args.context_length)
    bare_loop(loaded.model, ids, windows[:1], 1)  # warm-up
    harness_tps, bare_tps = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = score_perplexity(loaded.model, ids, context_length=args.context_length, stride=args.context_length,
                               batch_size=args.batch_size, pad_id=loaded.tokenizer.pad_token_id, progress=False)
        harness_tps.append(out["tokens_scored"] / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        n = bare_loop(loaded.model, ids, windows, args.batch_size)
        bare_tps.append(n / (time.perf_counter() - t0))
    h, b = statistics.median(harness_tps), statistics.median(bare_tps)
    print(f"model {args.model}  tokens {len(ids)}  windows {len(windows)}  batch {args.batch_size}  "
          f"device {loaded.device}  threads {torch.get_num_threads()}  repeats {args.repeats}")
    print(f"harness perplexity : {h:8.1f} tokens/s  (ppl {out['perplexity']:.3f})")
    print(f"bare forward loop  : {b:8.1f} tokens/s")
    print(f"ratio harness/bare : {h / b:.3f}  (goal ≥ 0.90)")


if __name__ == "__main__":
    main()
