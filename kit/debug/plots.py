"""Figures for a diagnosis: error by layer, sensitivity, activation/weight outliers; a module picker in JupyterLab."""

from __future__ import annotations

import re
from typing import Any

from kit.palette import BLUE, RED

__all__ = ["error_by_layer", "outlier_histogram", "outlier_picker", "sensitivity_bars"]


def _axes(ax: Any, size: tuple[float, float] = (7.0, 3.6)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def _layer(name: str) -> int | None:
    m = re.search(r"\.(\d+)(\.|$)", name)
    return int(m.group(1)) if m else None


def error_by_layer(table: Any, *, ax: Any = None) -> Any:
    """Isolated error (relative L2, log scale) of each projection type by layer, and the blocks' propagated error.

    Args:
        table: a :class:`~kit.debug.compare.ModuleTable`.
        ax: matplotlib axes (new figure when None).
    """
    ax = _axes(ax)
    series: dict[str, list[tuple[int, float]]] = {}
    for r in table.rows:
        layer = _layer(r["name"])
        if layer is None:
            continue
        key = "block (propagated)" if r["kind"] == "block" else r["name"].split(".")[-1]
        value = r["propagated"]["rel_l2"] if r["kind"] == "block" else r["isolated"]["rel_l2"]
        series.setdefault(key, []).append((layer, max(value, 1e-6)))
    for key, points in sorted(series.items()):
        xs, ys = zip(*sorted(points))
        style = {"color": "black", "linewidth": 2.5} if key.startswith("block") else {"marker": ".", "linewidth": 1}
        ax.plot(xs, ys, label=key, **style)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("relative L2 error (log)")
    ax.set_title("Isolated error per projection, propagated error per block")
    ax.legend(fontsize=7, ncol=2)
    return ax


def sensitivity_bars(sens: list[dict[str, Any]], *, ax: Any = None) -> Any:
    """KL at the logits as is and with each top unit kept in full precision.

    Args:
        sens: :func:`kit.debug.sensitivity.sensitivity` rows.
        ax: matplotlib axes (new figure when None).
    """
    ax = _axes(ax, (6.4, 3.0))
    if not sens:
        ax.set_title("no sensitivity measured")
        return ax
    labels = ["as is"] + [s["unit"] for s in sens]
    values = [sens[0]["kl_as_is"]] + [s["kl_restored"] for s in sens]
    ax.barh(labels[::-1], values[::-1], color=[BLUE] * len(sens) + [RED])
    ax.set_xlabel("KL(baseline ‖ candidate), nats/token")
    ax.set_title("Sensitivity: KL with one unit kept in full precision")
    return ax


def outlier_histogram(row: dict[str, Any], *, ax: Any = None) -> Any:
    """Histogram of log10 |activation| at a module's input, with its max/p99 ratio, kurtosis and outlier channels.

    Args:
        row: a module row of the table (with ``activations``).
        ax: matplotlib axes (new figure when None).
    """
    ax = _axes(ax, (6.4, 3.0))
    act = row.get("activations")
    if not act:
        ax.set_title(f"{row['name']}: no activation statistics (not a Linear)")
        return ax
    edges, counts = act["histogram"]["log10_edges"], act["histogram"]["counts"]
    ax.stairs(counts, edges, fill=True)
    ax.set_yscale("log")
    ax.set_xlabel("log10 |input activation|")
    ax.set_ylabel("count")
    w = row.get("weight") or {}
    ax.set_title(f"{row['name']}: max/p99 {act['max_over_p99']:.1f}, kurtosis {act['kurtosis']:.1f}, "
                 f"outlier channels {act['outlier_channels'][:4]}; weight max/p99.9 {w.get('max_over_p999', 0):.1f}",
                 fontsize=8)
    return ax


def outlier_picker(table: Any) -> Any:
    """A dropdown of module names (worst isolated error first) redrawing :func:`outlier_histogram` (JupyterLab).

    Args:
        table: a :class:`~kit.debug.compare.ModuleTable`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    rows = [r for r in table.ranked(kind="linear") if r.get("activations")]
    pick = widgets.Dropdown(options=[r["name"] for r in rows], description="module")
    out = widgets.Output()

    def draw(_: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            outlier_histogram(table.row(pick.value))
            plt.show()

    pick.observe(draw, names="value")
    draw()
    return widgets.VBox([pick, out])
