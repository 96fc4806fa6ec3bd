"""The pilot report's plots as static PNG files (matplotlib, Agg): quality vs memory, speed, per-set scores.

Each function takes ``summary.json`` content and a path, writes the PNG and returns the path;
nothing is shown interactively, so the same files land in the report folder and in the HTML.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kit.palette import AXIS, BLUE, FAIL, GREY, PASS, PASS_BG, STATUS_STYLES, WARN

__all__ = ["FIGURES", "plot_quality_vs_memory", "plot_speed", "plot_per_set", "write_figures"]

_MIB = 2**20
_DPI = 80  # small files: the HTML embeds every figure


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})  # no version stamp: stable bytes
    _plt().close(fig)
    return path


def _methods(summary: dict[str, Any]) -> list[str]:
    return [row["method"] for row in summary["efficiency"]]


def plot_quality_vs_memory(summary: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """One panel per gated metric: degradation (positive = worse) against in-memory size, tolerance band shaded.

    Args:
        summary: the report summary.
        path: the PNG to write.
    """
    plt = _plt()
    memory = {row["method"]: row["memory_bytes"] / _MIB for row in summary["efficiency"]}
    keys = list(dict.fromkeys((m["metric"], m["set"]) for m in summary["metrics"]))
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(3.2 * max(1, len(keys)), 3.0), squeeze=False)
    for ax, (metric, eval_set) in zip(axes[0], keys):
        rows = [m for m in summary["metrics"] if (m["metric"], m["set"]) == (metric, eval_set)]
        limit, pct = rows[0]["limit"], rows[0]["change_kind"] == "relative"
        scale = 100.0 if pct else 1.0
        ax.axhline(limit * scale, color=PASS, lw=1, ls="--")
        ax.axhline(0, color=AXIS, lw=0.8)
        ax.scatter([memory["baseline"]], [0], color=GREY, marker="s", zorder=3)
        ax.annotate("baseline", (memory["baseline"], 0), textcoords="offset points", xytext=(-20, -12), fontsize=8)
        worst = [limit * scale, 0.0]
        for m in rows:
            worse = (m["limit"] - m["margin"]) * scale  # degradation = limit − margin
            worst.append(worse)
            color = STATUS_STYLES.get(m["status"], (WARN,))[0]  # the tables' status colours; amber otherwise
            ax.scatter([memory[m["method"]]], [worse], color=color, zorder=3)
            ax.annotate(f"{m['method']} ({m['status']})", (memory[m["method"]], worse), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
        span = max(worst) - min(worst) or 1.0
        low = min(worst) - 0.15 * span
        ax.set_ylim(low, max(worst) + 0.25 * span)
        ax.axhspan(low, limit * scale, color=PASS_BG, zorder=0)  # within tolerance
        ax.set_xlim(0, max(memory.values()) * 1.35)
        ax.set_title(f"{metric} ({eval_set})", fontsize=9)
        ax.set_xlabel("weights in memory (MiB)", fontsize=8)
        ax.set_ylabel("degradation " + ("(%)" if pct else "(absolute)") + ", up = worse", fontsize=8)
        ax.tick_params(labelsize=7)
    return _save(fig, path)


def _spread(summary: dict[str, Any], rows: list[dict[str, Any]]) -> list[list[float]] | None:
    """Error bars for the pilot's own tokens/s: the range over timed repeats (none where a record has no repeats)."""
    own = {r["method"]: r for r in (summary.get("serving") or {}).get("rows", []) if r["source"] == "this pilot"}
    low, high = [], []
    for row in rows:
        interval, rate = (own.get(row["method"]) or {}).get("decode_ms_interval"), row["decode_tokens_per_s"]
        if not (interval and rate):
            low.append(float("nan"))  # no per-repeat values: no whisker rather than a zero-width one
            high.append(float("nan"))
            continue
        low.append(max(0.0, rate - 1000 / interval[1]))
        high.append(max(0.0, 1000 / interval[0] - rate))
    return [low, high] if any(x == x for x in low) else None


def plot_speed(summary: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Bars: decode latency p50/p95 (ms per token) and decode throughput (tokens/s) per model.

    Args:
        summary: the report summary.
        path: the PNG to write.
    """
    plt = _plt()
    rows, names = summary["efficiency"], _methods(summary)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.8))
    x = range(len(rows))
    for offset, key, label in ((-0.2, "decode_ms_p50", "p50"), (0.2, "decode_ms_p95", "p95")):
        ax1.bar([i + offset for i in x], [r[key] or 0 for r in rows], width=0.4, label=label)
    ax1.set_title("decode latency (ms/token, lower is better)", fontsize=9)
    ax1.legend(fontsize=7)
    ax2.bar(list(x), [r["decode_tokens_per_s"] or 0 for r in rows], color=BLUE, yerr=_spread(summary, rows),
            capsize=3)
    ax2.set_title("decode tokens/s (higher is better; whiskers: repeats)", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xticks(list(x), names, fontsize=8)
        ax.tick_params(labelsize=7)
    if not any(r["decode_tokens_per_s"] for r in rows):
        fig.text(0.5, 0.5, "speed not measured", ha="center", fontsize=12, color=FAIL)
    return _save(fig, path)


def plot_per_set(summary: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """One panel per evaluation set: its headline metric for the baseline and each method.

    Args:
        summary: the report summary.
        path: the PNG to write.
    """
    plt = _plt()
    sets = list(dict.fromkeys(r["set"] for r in summary["per_set"]))
    names = _methods(summary)
    fig, axes = plt.subplots(1, len(sets), figsize=(3.0 * len(sets), 2.8), squeeze=False)
    for ax, name in zip(axes[0], sets):
        rows = {r["method"]: r for r in summary["per_set"] if r["set"] == name}
        values = [rows[m]["value"] if m in rows else 0 for m in names]
        ax.bar(range(len(names)), values, color=[GREY] + [BLUE] * (len(names) - 1))
        metric = next(iter(rows.values()))["metric"]
        ax.set_title(f"{name}: {metric}" + (" (lower is better)" if metric == "ppl" else ""), fontsize=9)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.tick_params(labelsize=7)
        for i, v in enumerate(values):
            ax.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=7)
    return _save(fig, path)


#: file name → plotting function, in report order.
FIGURES = {"quality_vs_memory.png": plot_quality_vs_memory, "speed.png": plot_speed, "per_set.png": plot_per_set}


def write_figures(summary: dict[str, Any], folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every report figure into ``folder``.

    Args:
        summary: the report summary.
        folder: where the PNGs go.
    """
    return {name: fn(summary, Path(folder) / name) for name, fn in FIGURES.items()}
