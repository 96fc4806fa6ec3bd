"""Per-module error of a candidate against its baseline on the same tokens, through forward hooks.

Two passes per chunk of tokens. Pass 1 runs the baseline; a hook on every watched module feeds
the baseline's input to the candidate's module of the same name (**isolated** error) and keeps
the baseline's output for this chunk only. Pass 2 runs the candidate; its hooks compare each
output with the baseline's (**propagated** error: everything upstream is quantized too). Only
running sums survive a chunk, so memory is bounded by one chunk of module outputs whatever the
number of tokens. No tracing: any causal LM whose modules share names works.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import statistics
from collections.abc import Iterator, Sequence
from typing import Any

from kit.debug.stats import ErrorStats, MomentStats, module_names, unit_of
from kit.errors import KitError

__all__ = ["STANDS_OUT", "ModuleTable", "compare_modules", "severity", "shape_verdict", "weight_error"]

#: A module "stands out" when its isolated error is at least this many times the median module's.
STANDS_OUT = 4.0


@dataclasses.dataclass
class ModuleTable:
    """The per-module comparison: one row per watched module, logits agreement, and the tokens used."""

    rows: list[dict[str, Any]]
    logits: dict[str, float]
    tokens: int

    def ranked(self, *, kind: str = "linear") -> list[dict[str, Any]]:
        """Rows of one kind (``linear`` with embeddings, ``block``, or ``all``), most severe first (:func:`severity`).

        Args:
            kind: which modules.
        """
        rows = [r for r in self.rows
                if kind == "all" or r["kind"] == kind or (kind == "linear" and r["kind"] == "embedding")]
        return sorted(rows, key=lambda r: tuple(-x for x in severity(r)))

    def row(self, name: str) -> dict[str, Any]:
        """One module's row.

        Args:
            name: the module name.
        """
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KitError(f"no module '{name}' in the table; names look like {self.rows[0]['name']}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinite SQNR written as null)."""
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v
        return clean({"rows": self.rows, "logits": self.logits, "tokens": self.tokens})


def _first(output: Any) -> Any:
    return output[0] if isinstance(output, (tuple, list)) else output


@contextlib.contextmanager
def _hooks(modules: dict[str, Any], make: Any) -> Iterator[None]:
    handles = [m.register_forward_hook(make(name), with_kwargs=True) for name, m in modules.items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _kind(module: Any) -> str:
    import torch

    if isinstance(module, torch.nn.Linear):
        return "linear"
    return "embedding" if isinstance(module, torch.nn.Embedding) else "block"


def weight_error(*, baseline: Any, candidate: Any, bits: int | None, group_size: int | None) -> dict[str, float | None]:
    """Relative weight error ‖Wc − Wb‖²/‖Wb‖², and that error over round-to-nearest's at the logged scheme.

    The ratio puts a method's per-module loss on one scale: ≈1 is what plain rounding costs,
    GPTQ/AWQ land near it, ≫1 means the module's weights were damaged beyond rounding.

    Args:
        baseline: the baseline weight tensor.
        candidate: the candidate weight tensor (same shape).
        bits: the logged weight bits (None: no reference, ratio left out).
        group_size: the logged group size (None: one scale per output channel).
    """
    wb, wc = baseline.detach().float(), candidate.detach().float()
    norm = float((wb * wb).sum()) or 1e-30
    rel = float(((wc - wb) ** 2).sum()) / norm
    if bits is None or wb.dim() != 2:
        return {"rel_error": rel, "vs_rtn": None}
    from kit.debug.faults import fake_quantize

    rtn = float(((fake_quantize(wb, bits=bits, group_size=group_size) - wb) ** 2).sum()) / norm
    return {"rel_error": rel, "vs_rtn": rel / rtn if rtn > 0 else None}


def _weight_outliers(weight: Any) -> dict[str, Any]:
    import torch

    w = weight.detach().float().abs()
    flat = w.flatten()
    sample = flat[torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(0))[:1_000_000]]
    p999 = float(torch.quantile(sample, 0.999))
    d = sample.double() - float(sample.mean())
    kurt = float((d ** 4).mean() / (d ** 2).mean() ** 2) if float((d ** 2).mean()) > 0 else math.nan
    cols = w.amax(dim=0) if w.dim() == 2 else w.amax(dim=-1)
    med = float(cols.median()) or 1e-30
    outliers = torch.nonzero(cols > 5 * med).flatten()
    top = outliers[torch.argsort(-cols[outliers])][:8].tolist()
    return {"max_over_p999": float(w.max()) / max(p999, 1e-30), "kurtosis_abs": kurt,
            "outlier_channels": [int(c) for c in top], "outlier_count": int(outliers.numel())}


def _act_summary(m: MomentStats) -> dict[str, Any]:
    import torch

    cmax = m.channel_max
    med = float(cmax.median()) or 1e-30
    outliers = torch.nonzero(cmax > 6 * med).flatten()
    top = outliers[torch.argsort(-cmax[outliers])][:8].tolist()
    return {"max_abs": m.max_abs, "max_over_p99": m.max_abs / max(m.percentile(99.0), 1e-30),
            "kurtosis": m.kurtosis(), "outlier_channels": [int(c) for c in top], "outlier_count": int(outliers.numel()),
            "histogram": {"log10_edges": [round(float(e), 3) for e in m.edges], "counts": [int(c) for c in m.counts]}}


def compare_modules(
    *,
    baseline: Any,
    candidate: Any,
    tokens: Sequence[int],
    chunk: int = 128,
    bits: int | None = None,
    group_size: int | None = None,
    progress: bool = False,
) -> ModuleTable:
    """Isolated and propagated error of every watched module, weight error and outliers, and logits KL.

    Args:
        baseline: the baseline ``PreTrainedModel``.
        candidate: the candidate ``PreTrainedModel`` (same architecture and module names).
        tokens: token ids (baseline tokenizer) to run both models on.
        chunk: tokens per forward pass (memory: one chunk of module outputs is held at a time).
        bits: the candidate's logged weight bits (for the weight error vs round-to-nearest).
        group_size: the candidate's logged group size.
        progress: show a progress bar over the chunks.
    """
    import torch
    from tqdm.auto import tqdm

    base_mods, cand_mods = module_names(baseline), module_names(candidate)
    names = [n for n in base_mods if n in cand_mods]
    if not names:
        raise KitError("baseline and candidate share no module names; compare two checkpoints of one architecture")
    if len(tokens) < 2:
        raise KitError("need at least 2 tokens to compare; pass a longer text")
    iso = {n: ErrorStats() for n in names}
    prop = {n: ErrorStats() for n in names}
    acts = {n: MomentStats() for n in names if _kind(base_mods[n]) == "linear"}
    held: dict[str, Any] = {}
    kl_sum, agree, counted = 0.0, 0, 0

    def on_base(name: str) -> Any:
        def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
            out = _first(output).detach()
            held[name] = out
            if name in acts:
                acts[name].update(args[0])
            iso[name].update(out, _first(cand_mods[name](*args, **kwargs)))
        return hook

    def on_cand(name: str) -> Any:
        def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
            ref = held.pop(name, None)
            if ref is not None and ref.shape == _first(output).shape:
                prop[name].update(ref, _first(output))
        return hook

    starts = range(0, len(tokens) - 1, chunk)
    with torch.inference_mode():
        for start in tqdm(starts, desc="compare", unit="chunk", disable=not progress):
            ids = torch.tensor([list(tokens[start:start + chunk])], device=baseline.device)
            if ids.shape[1] < 2:
                continue
            with _hooks({n: base_mods[n] for n in names}, on_base):
                lb = baseline(input_ids=ids, use_cache=False).logits.float()
            with _hooks({n: cand_mods[n] for n in names}, on_cand):
                lc = candidate(input_ids=ids, use_cache=False).logits.float()
            held.clear()
            pb, pc = torch.log_softmax(lb, -1), torch.log_softmax(lc, -1)
            kl_sum += float((pb.exp() * (pb - pc)).sum())
            agree += int((lb.argmax(-1) == lc.argmax(-1)).sum())
            counted += ids.shape[1]
    rows = []
    for n in names:
        kind = _kind(base_mods[n])
        row: dict[str, Any] = {"name": n, "kind": kind, "unit": unit_of(n),
                               "isolated": iso[n].metrics(), "propagated": prop[n].metrics()}
        if kind != "block":
            wb, wc = base_mods[n].weight, cand_mods[n].weight
            row["weight"] = weight_error(baseline=wb, candidate=wc, bits=bits if kind == "linear" else None,
                                         group_size=group_size) | _weight_outliers(wb)
        if n in acts:
            row["activations"] = _act_summary(acts[n])
        rows.append(row)
    _add_ratios(rows)
    return ModuleTable(rows=rows, logits={"kl_mean": kl_sum / max(counted, 1), "top1_agreement": agree / max(counted, 1)},
                       tokens=counted)


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    """Each row's isolated relative error over the median of its kind (None when that median is exactly 0)."""
    for group in (("linear", "embedding"), ("block",)):
        members = [r for r in rows if r["kind"] in group]
        if not members:
            continue
        med = statistics.median(r["isolated"]["rel_l2"] for r in members)
        for r in members:
            r["vs_median"] = r["isolated"]["rel_l2"] / med if med > 0 else None


def severity(row: dict[str, Any]) -> tuple[float, float, float]:
    """A row's sort key, larger = worse: ratio to the median, then isolated and propagated error.

    When the median of its kind is exact (more than half the modules match the baseline) there is
    no ratio: a row that differs then ranks above every ratio, an exact row at 0.

    Args:
        row: a :class:`ModuleTable` row.
    """
    iso, ratio = row["isolated"]["rel_l2"], row.get("vs_median")
    if ratio is None:
        ratio = math.inf if iso > 0 else 0.0
    return ratio, iso, row["propagated"]["rel_l2"]


def _stands_out(row: dict[str, Any]) -> bool:
    return severity(row)[0] >= STANDS_OUT


def _why(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """How far ``row`` stands out from the rest of its kind, in words a person can use."""
    kind = "block" if row["kind"] == "block" else "module"
    if row.get("vs_median") is not None:
        return f"isolated error {row['vs_median']:.1f}× the median {kind}'s"
    differ = [r for r in rows if r["isolated"]["rel_l2"] > 0]
    if len(differ) == 1:
        return f"the only {kind} that differs: every other {kind} matches the baseline exactly"
    return f"{len(differ)} of {len(rows)} {kind}s differ, the other {len(rows) - len(differ)} match the baseline exactly"


def shape_verdict(table: ModuleTable) -> dict[str, Any]:
    """Whether one module or block stands out (isolated error ≥ :data:`STANDS_OUT` × the median) or the error accumulates.

    When more than half of a kind match the baseline exactly (the median is 0) any that differs stands out.

    Args:
        table: the module comparison.
    """
    linear, block_rows = table.ranked(kind="linear"), table.ranked(kind="block")
    modules = [r for r in linear if _stands_out(r)]
    blocks = [r for r in block_rows if _stands_out(r)]
    stand_units = sorted({r["unit"] for r in modules})
    blocks_prop = [r for r in table.rows if r["kind"] == "block"]
    growth = ""
    if blocks_prop:
        first, last = blocks_prop[0]["propagated"]["rel_l2"], blocks_prop[-1]["propagated"]["rel_l2"]
        growth = f"propagated error grows from {first:.3g} after the first block to {last:.3g} after the last"
    if not modules and not blocks:
        return {"shape": "accumulated", "targets": [],
                "text": f"no module stands out (none ≥ {STANDS_OUT:g}× the median isolated error): the error accumulates "
                        f"across many modules; {growth}. Suspect the scheme, calibration or the inputs, not one layer."}
    outside = ""
    if len(modules) == 1:
        target, what, top, peers = modules[0]["name"], "one module stands out", modules[0], linear
    elif len(stand_units) == 1 and stand_units[0] != modules[0]["name"]:
        target, what, top, peers = stand_units[0], f"one block stands out ({len(modules)} of its modules)", modules[0], linear
    elif blocks and not modules:
        target, what, top, peers = blocks[0]["name"], "one block stands out", blocks[0], block_rows
        outside = (" — none of its Linear or Embedding modules does, so the damage sits outside them "
                   "(a norm or another parameter of the block)")
    else:
        target, what, top, peers = modules[0]["name"], f"{len(modules)} modules stand out", modules[0], linear
    return {"shape": "localized", "targets": [target] + [r["name"] for r in modules if r["name"] != target][:7],
            "text": f"{what}: {target} ({_why(top, peers)}){outside}; {growth}"}
