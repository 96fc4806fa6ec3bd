"""Matplotlib figures for notebooks and reports: labelled axes, units, one idea per figure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from kit.palette import BLUE, LIGHT_GREY, RED

__all__ = ["accuracy_by_category", "accuracy_vs_memory", "channel_peaks", "column_errors", "group_size_errors",
           "latency_bars", "rounding_histogram"]


def _axes(ax: Any, size: tuple[float, float] = (6.4, 3.6)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def accuracy_by_category(record: dict[str, Any], *, ax: Any = None) -> Any:
    """Bar chart of per-category accuracy for a multiple-choice or generation record.

    Categories are the item-id prefixes before the first ``-`` (e.g. ``capital-017``).

    Args:
        record: a harness record with per-item ``correct`` and ``ids``.
        ax: matplotlib axes to draw on (new figure when None).
    """
    acc = record["accuracy"]
    groups: dict[str, list[int]] = defaultdict(list)
    for item_id, ok in zip(acc["ids"], acc["correct"]):
        groups[item_id.split("-")[0]].append(ok)
    names = sorted(groups)
    ax = _axes(ax)
    values = [100 * sum(groups[n]) / len(groups[n]) for n in names]
    ax.bar(names, values, color=BLUE)
    for x, (v, n) in enumerate(zip(values, names)):
        ax.text(x, v + 1, f"n={len(groups[n])}", ha="center", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{record['model']['ref']} on {record['eval_set']['name']}, by category")
    ax.tick_params(axis="x", rotation=30)
    return ax


def accuracy_vs_memory(
    rows: Sequence[dict[str, Any]], *, metric: str = "perplexity", size_key: str = "stored_MiB",
    size_label: str = "stored weights", ax: Any = None,
) -> Any:
    """Scatter of an accuracy metric against weight size, one labelled point per method.

    Args:
        rows: dicts with ``method``, ``size_key`` (MiB) and ``metric``.
        metric: key to plot on the y axis (perplexity: lower is better).
        size_key: key of the size in MiB on the x axis (``stored_MiB``: the saved artifact; ``in_memory_MiB``).
        size_label: what the size is, for the axis label and title.
        ax: matplotlib axes to draw on.
    """
    ax = _axes(ax)
    for row in rows:
        x, y = row[size_key], row[metric]
        ax.scatter([x], [y], s=50)
        ax.annotate(row["method"], (x, y), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_xlabel(f"{size_label} (MiB)")
    ax.set_ylabel(metric + (" (lower is better)" if metric == "perplexity" else ""))
    ax.set_title(f"{metric} vs {size_label}")
    ax.grid(alpha=0.3)
    return ax


def latency_bars(records: Sequence[dict[str, Any]], *, ax: Any = None) -> Any:
    """Grouped bars of prefill and per-token decode (p50, p95) latency per model, in milliseconds.

    Args:
        records: harness records measured with speed.
        ax: matplotlib axes to draw on.
    """
    ax = _axes(ax)
    keys = [("prefill_ms", "prefill"), ("decode_ms_p50", "decode p50"), ("decode_ms_p95", "decode p95")]
    labels = [f"{r['model'].get('method', 'none')}" for r in records]
    width = 0.8 / len(keys)
    for k, (key, name) in enumerate(keys):
        xs = [i + k * width for i in range(len(records))]
        ax.bar(xs, [(r.get("latency") or {}).get(key) or 0 for r in records], width, label=name)
    ax.set_xticks([i + width for i in range(len(records))], labels)
    ax.set_ylabel("milliseconds")
    lat = records[0].get("latency") or {}
    ax.set_title(f"latency (batch 1, {lat.get('prompt_tokens')}-token prompt)")
    ax.legend()
    return ax


def rounding_histogram(values: Any, *, rounded: dict[str, Any], bins: int = 120, ax: Any = None) -> Any:
    """Histogram of weights before rounding (filled) and after each rounding (outlines), on shared bins.

    Args:
        values: the original weights (a 1-D tensor or sequence, e.g. one output row).
        rounded: label → the same weights after rounding (dequantized).
        bins: number of bins across the original range.
        ax: matplotlib axes to draw on.
    """
    import numpy as np

    ax = _axes(ax)
    original = np.asarray(values, dtype=float).ravel()
    edges = np.linspace(original.min(), original.max(), bins + 1)
    ax.hist(original, bins=edges, color=LIGHT_GREY, label=f"original ({len(np.unique(original))} distinct values)")
    for label, r in rounded.items():
        r = np.asarray(r, dtype=float).ravel()
        ax.hist(r, bins=edges, histtype="step", linewidth=1.4, label=f"{label} ({len(np.unique(r))} levels used)")
    ax.set_xlabel("weight value")
    ax.set_ylabel("weights per bin")
    ax.set_title(f"{len(original)} weights before and after rounding")
    ax.legend(fontsize=8)
    return ax


def group_size_errors(rows: Sequence[dict[str, Any]], *, ax: Any = None) -> Any:
    """Rounding error against bits per weight, one labelled point per group size that divides the width.

    Args:
        rows: ``kit.teach.intuition.group_size_table`` rows.
        ax: matplotlib axes to draw on.
    """
    ax = _axes(ax)
    used = [r for r in rows if r["relative_error"] is not None]
    ax.plot([r["bits_per_weight"] for r in used], [100 * r["relative_error"] for r in used], "o-")
    for r in used:
        ax.annotate(f"g={r['group_size']}", (r["bits_per_weight"], 100 * r["relative_error"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_xlabel("bits per weight, scales included")
    ax.set_ylabel("relative rounding error (%)")
    ax.set_title("smaller groups: less error, more scale overhead")
    ax.grid(alpha=0.3)
    return ax


def channel_peaks(outliers: dict[str, Any], *, ax: Any = None) -> Any:
    """Largest |activation| per input channel (log scale), with LLM.int8's threshold as a line.

    Args:
        outliers: ``kit.teach.intuition.outlier_channels`` result.
        ax: matplotlib axes to draw on.
    """
    ax = _axes(ax)
    peak = outliers["peak"]
    floor = max(min(peak), 1e-3) / 2  # log scale: lines start just below the smallest peak
    ax.vlines(range(len(peak)), floor, peak, color=BLUE, linewidth=0.8)  # lines stay visible when thin
    ax.scatter(outliers["outliers"], [peak[i] for i in outliers["outliers"]], color=RED, s=14, zorder=3)
    ax.axhline(outliers["threshold"], color=RED, linestyle="--",
               label=f"threshold {outliers['threshold']:g}: {len(outliers['outliers'])} of {len(peak)} channels above")
    ax.set_yscale("log")
    ax.set_xlabel("input channel")
    ax.set_ylabel("max |activation| over tokens")
    ax.set_title(f"{outliers['tokens']} tokens of real text")
    ax.legend(fontsize=8)
    return ax


def column_errors(effect: dict[str, Any], *, ax: Any = None, window: int = 16) -> Any:
    """Per-input-column weight error of each rounding method (a moving average over ``window`` columns).

    Args:
        effect: ``kit.teach.intuition.calibration_effect`` result.
        ax: matplotlib axes to draw on.
        window: columns averaged per point, so the lines are readable.
    """
    import numpy as np

    ax = _axes(ax)
    kernel = np.ones(window) / window
    for label, errors in effect["column_error"].items():
        ax.plot(np.convolve(np.asarray(errors), kernel, mode="valid"), label=label, linewidth=1.2)
    ax.set_xlabel("input column (GPTQ's order: left to right)")
    ax.set_ylabel(f"weight error ‖ΔW[:, j]‖ ({window}-column mean)")
    ax.set_title("how far each column's rounded weights are from the originals")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax
