"""Latency, throughput and memory measurements with warm-up runs excluded."""

from __future__ import annotations

import contextlib
import resource
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

__all__ = ["measure_latency", "peak_memory", "percentile"]


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile of ``values``.

    Args:
        values: samples.
        q: percentile in 0..100.
    """
    s = sorted(values)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def measure_latency(
    model: Any, prompt_ids: list[int], *, new_tokens: int, warmup: int, repeats: int,
) -> dict[str, Any]:
    """Prefill, time to first token and per-token decode latency (batch 1, greedy, KV cache).

    Args:
        model: causal LM.
        prompt_ids: the prompt's token ids.
        new_tokens: tokens decoded per repeat (the first comes from the prefill).
        warmup: untimed repeats run first.
        repeats: timed repeats.
    """
    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids], device=device)
    prefill, ttft, per_token, per_repeat = [], [], [], []
    for run in range(warmup + repeats):
        _sync(device)
        t0 = time.perf_counter()
        out = model(input_ids=ids, use_cache=True)
        _sync(device)
        t1 = time.perf_counter()
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        _sync(device)
        t2 = time.perf_counter()
        past, steps = out.past_key_values, []
        for _ in range(new_tokens - 1):
            s0 = time.perf_counter()
            out = model(input_ids=token, past_key_values=past, use_cache=True)
            token, past = out.logits[:, -1].argmax(-1, keepdim=True), out.past_key_values
            _sync(device)
            steps.append(time.perf_counter() - s0)
        if run >= warmup:
            prefill.append(t1 - t0)
            ttft.append(t2 - t0)
            per_token += steps
            if steps:
                per_repeat.append(statistics.fmean(steps))
    p_med = statistics.median(prefill)
    d_mean = statistics.fmean(per_token) if per_token else float("nan")
    return {
        "latency": {
            "prompt_tokens": len(prompt_ids), "new_tokens": new_tokens, "warmup": warmup, "repeats": repeats,
            "prefill_ms": p_med * 1e3, "ttft_ms": statistics.median(ttft) * 1e3,
            "decode_ms_p50": percentile(per_token, 50) * 1e3 if per_token else None,
            "decode_ms_p95": percentile(per_token, 95) * 1e3 if per_token else None,
            "decode_ms_mean": d_mean * 1e3 if per_token else None,
            "decode_ms_stdev": statistics.pstdev(per_token) * 1e3 if per_token else None,
            # per timed repeat (an interval over repeats: the spread between runs, not between tokens)
            "prefill_ms_repeats": [x * 1e3 for x in prefill], "decode_ms_repeats": [x * 1e3 for x in per_repeat],
        },
        "throughput": {"prefill_tokens_per_s": len(prompt_ids) / p_med,
                       "decode_tokens_per_s": 1.0 / d_mean if per_token else None},
    }


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@contextlib.contextmanager
def peak_memory(device: str) -> Iterator[dict[str, Any]]:
    """Measure peak process RSS (and CUDA max allocated) over the block into the yielded dict.

    Args:
        device: the device in use; CUDA peaks are read only for a CUDA device.
    """
    stats: dict[str, Any] = {}
    scoped = False
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the RSS high-water mark
        scoped = True
    cuda = device.startswith("cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    try:
        yield stats
    finally:
        hwm = _status_kb("VmHWM") if scoped else None
        if hwm is None:
            hwm, scoped = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, False
        stats["peak_rss_bytes"] = hwm * 1024
        stats["peak_rss_scope"] = "this measurement" if scoped else "process lifetime"
        if cuda:
            stats["cuda_max_allocated_bytes"] = torch.cuda.max_memory_allocated()
            stats["cuda_max_reserved_bytes"] = torch.cuda.max_memory_reserved()
