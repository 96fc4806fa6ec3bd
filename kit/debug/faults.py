"""Weight faults a planted regression applies, round-to-nearest simulation, and keeping modules in full precision.

A fault names modules (exact names, a block prefix such as ``model.layers.4``, or ``re:<regex>``)
and one operation: ``scale`` (mis-scaled weights), ``clip`` (outliers destroyed at a per-row
percentile) or ``quantize`` (round-to-nearest at other bits / group size). Modules in the
ignore list are kept in full precision, so a fault never touches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from kit.errors import KitError

__all__ = ["FAULT_OPS", "apply_faults", "editable", "fake_quantize", "matches", "put_back", "restore_modules", "weight_modules"]

FAULT_OPS = ("scale", "clip", "quantize")


def fake_quantize(weight: Any, *, bits: int, group_size: int | None) -> Any:
    """Symmetric integer round-to-nearest, then back to float (scale = max|w| / ((2^bits − 1)/2) per group).

    Args:
        weight: a 2-D weight (out × in).
        bits: integer bits.
        group_size: input columns per scale; None = one scale per output row (per-channel).
    """
    w = weight.detach().float()
    out_f, in_f = w.shape
    g = in_f if group_size is None else group_size
    if in_f % g:
        raise KitError(f"group size {g} does not divide the input width {in_f}")
    grouped = w.reshape(out_f, in_f // g, g)
    qmax, qmin = 2 ** (bits - 1) - 1, -(2 ** (bits - 1))
    scale = grouped.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12) / ((qmax - qmin) / 2)
    q = (grouped / scale).round().clamp(qmin, qmax)
    return (q * scale).reshape(out_f, in_f).to(weight.dtype)


def weight_modules(model: Any) -> dict[str, Any]:
    """Linear and Embedding modules by name (the ones that carry quantizable weights).

    Args:
        model: a torch module.
    """
    import torch

    return {n: m for n, m in model.named_modules() if isinstance(m, (torch.nn.Linear, torch.nn.Embedding))}


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether a module name is named by ``patterns`` (exact, a block prefix, a last component, or ``re:``).

    Args:
        name: the module name.
        patterns: names, prefixes (``model.layers.4``), last components (``lm_head``) or ``re:<regex>``.
    """
    for p in patterns:
        if p.startswith("re:"):
            if re.fullmatch(p[3:], name):
                return True
        elif name == p or name.startswith(p + ".") or name.split(".")[-1] == p:
            return True
    return False


def editable(model: Any) -> Any:
    """Make loaded parameters editable: plain parameter dicts, and normal copies of inference-mode tensors; ties kept.

    Args:
        model: the model, changed in place and returned.
    """
    import torch

    for m in model.modules():
        # compressed-tensors loads (dequantize=True) keep parameters in an offload cache mapping that
        # re-ties assignments; a plain dict makes this an ordinary torch module again (CPU: same tensors).
        if type(m._parameters) is not dict:
            m._parameters = dict(m._parameters.items())
    done: dict[int, Any] = {}
    for m in model.modules():
        for key, w in list(m._parameters.items()):
            if w is not None and w.is_inference():
                if id(w) not in done:
                    done[id(w)] = torch.nn.Parameter(w.clone(), requires_grad=False)
                m._parameters[key] = done[id(w)]
    return model


def _untie(model: Any, name: str) -> None:
    """Give ``name`` its own weight when it shares storage with another module (tied lm_head / embeddings)."""
    import torch

    module = dict(model.named_modules())[name]
    shared = [m for n, m in weight_modules(model).items() if n != name and m.weight is module.weight]
    if shared:
        module.weight = torch.nn.Parameter(module.weight.detach().clone(), requires_grad=False)
        model.config.tie_word_embeddings = False


def apply_faults(model: Any, *, faults: Sequence[dict[str, Any]], ignore: Sequence[str] = (),
                 baseline: Any = None) -> list[str]:
    """Apply each fault in place to the modules it names, skipping those kept in full precision; return the names touched.

    Args:
        model: the candidate model (dense weights).
        faults: fault dicts (``op``, ``modules``, and ``factor`` / ``percentile`` / ``bits``+``group_size``).
        ignore: modules kept in full precision (same pattern syntax).
        baseline: the baseline model; ``quantize`` rounds its weights (else the candidate's).
    """
    import torch

    touched = []
    mods = weight_modules(editable(model))
    base = weight_modules(baseline) if baseline is not None else {}
    for fault in faults:
        op = fault.get("op")
        if op not in FAULT_OPS:
            raise KitError(f"fault op '{op}' unknown; use one of: {', '.join(FAULT_OPS)}")
        names = [n for n in mods if matches(n, fault.get("modules", [])) and not matches(n, ignore)]
        if not names and not any(matches(n, fault.get("modules", [])) for n in mods):
            raise KitError(f"fault {fault} names no module; module names look like {next(iter(mods))}")
        with torch.no_grad():
            for n in names:
                _untie(model, n)
                w = mods[n].weight
                if op == "scale":
                    w.mul_(float(fault["factor"]))
                elif op == "clip":
                    q = float(fault["percentile"]) / 100.0
                    a = w.abs().float()
                    bound = torch.quantile(a, q, dim=1, keepdim=True) if a.shape[1] <= 16_000_000 else a.amax(1, keepdim=True)
                    w.copy_(torch.maximum(torch.minimum(w, bound), -bound))
                else:
                    src = base[n].weight if n in base else w
                    w.copy_(fake_quantize(src, bits=int(fault["bits"]), group_size=fault.get("group_size")))
                touched.append(n)
    return sorted(set(touched))


def restore_modules(candidate: Any, *, baseline: Any, names: Sequence[str]) -> dict[str, Any]:
    """Copy the baseline's parameters into the named candidate modules (kept in full precision); return the old ones.

    Every parameter under a named module counts (a block's norms too, not only its Linear weights),
    so a unit kept in full precision is the baseline's unit. Tied weights stay tied.

    Args:
        candidate: the candidate model (dense weights), changed in place.
        baseline: the baseline model.
        names: module names or block prefixes.
    """
    import torch

    editable(candidate)
    base = dict(baseline.named_parameters(remove_duplicate=False))
    saved = {}
    with torch.no_grad():
        for n, p in candidate.named_parameters(remove_duplicate=False):
            owner = n.rpartition(".")[0]
            if matches(owner, names) and n in base and base[n].shape == p.shape:
                saved[n] = p.detach().clone()
                p.copy_(base[n])
    return saved


def put_back(candidate: Any, saved: dict[str, Any]) -> None:
    """Undo :func:`restore_modules`.

    Args:
        candidate: the model changed by it.
        saved: what it returned.
    """
    import torch

    params = dict(candidate.named_parameters(remove_duplicate=False))
    with torch.no_grad():
        for n, w in saved.items():
            params[n].copy_(w)
