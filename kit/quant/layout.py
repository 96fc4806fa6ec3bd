"""Which Linear layers a method quantizes, and how: their widths, ignore lists, group sizes, architecture support.

Everything here reads the model's layout (a loaded model, or a weightless skeleton built from a
baseline's config on the meta device), so :func:`kit.quant.quantize.quantize` refuses a request
that cannot fit the model before any work starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.models import LoadedModel, resolve_path
from kit.quant.methods import Method

__all__ = ["GROUP_SIZES", "check_architecture", "default_group_size", "ignored_linears", "module_matches"]

#: Group sizes tried, largest first (kernels such as Marlin support 32/64/128).
GROUP_SIZES = (128, 64, 32, 16)


def _linear_widths(model: Any, ignore: tuple[str, ...]) -> dict[str, int]:
    import torch

    if isinstance(model, LoadedModel):
        model = model.model
    if not isinstance(model, torch.nn.Module):  # a reference: build the skeleton on the meta device
        from transformers import AutoConfig, AutoModelForCausalLM

        path = resolve_path(str(model))
        if path is None:
            raise KitError(f"'{model}' is not a local model; pass an alias or a folder")
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(path))
    return {name: int(m.in_features) for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.split(".")[-1] not in ignore and name not in ignore}


def module_matches(name: str, patterns: Sequence[str]) -> bool:
    """Whether ``patterns`` name a module: exactly, as a block prefix (``model.layers.4``), by last component, or ``re:<regex>``.

    Args:
        name: the module name.
        patterns: the ignore-list entries.
    """
    return any(re.fullmatch(p[3:], name) if p.startswith("re:") else
               (name == p or name.startswith(p + ".") or name.split(".")[-1] == p) for p in patterns)


def ignored_linears(model: Any, patterns: Sequence[str]) -> list[str]:
    """The Linear module names an ignore list keeps in full precision; an entry naming none is an error.

    Args:
        model: a ``LoadedModel``, a torch module, or a reference (alias / folder).
        patterns: names, block prefixes, last components or ``re:<regex>``.
    """
    names = list(_linear_widths(model, ()))
    for p in patterns:
        if not any(module_matches(n, [p]) for n in names):
            raise KitError(f"--ignore entry '{p}' names no Linear module; names look like {names[0]} "
                           "(a block such as model.layers.3 keeps all of its projections)")
    return [n for n in names if module_matches(n, patterns)]


def default_group_size(model: Any, requested: int | None = None, *, ignore: tuple[str, ...] = ("lm_head",)) -> int:
    """The group size to use: ``requested`` if it divides every quantized Linear's input width, else the largest that does.

    Args:
        model: a ``LoadedModel``, a torch module, or a reference (alias / folder).
        requested: the user's group size; None picks the largest of :data:`GROUP_SIZES` that fits.
        ignore: Linear module names left unquantized (their widths do not count).
    """
    widths = _linear_widths(model, ignore)
    if not widths:
        raise KitError("the model has no Linear layers to quantize; pass a causal LM")
    common = math.gcd(*widths.values())
    fits = [g for g in GROUP_SIZES if common % g == 0]
    if requested is None:
        if not fits:
            raise KitError(f"no group size in {GROUP_SIZES} divides the Linear widths {sorted(set(widths.values()))}; "
                           "pass --group-size explicitly")
        return fits[0]
    if requested < 1 or common % requested:
        bad = next(n for n, w in widths.items() if w % max(requested, 1) or requested < 1)
        hint = ", ".join(str(g) for g in sorted(fits)) or f"a divisor of {common}"
        raise KitError(f"group size {requested} does not divide the input width {widths[bad]} of {bad}; "
                       f"use --group-size {hint} (divisors of widths {sorted(set(widths.values()))})")
    return requested


def check_architecture(*, method: Method, baseline: Path) -> None:
    """Refuse, before any work, a model whose projections a method cannot quantize (GPT-2's Conv1D for llm-compressor).

    Args:
        method: the method's adapter.
        baseline: the baseline folder (its config builds a weightless skeleton).
    """
    if method.library != "llmcompressor":
        return
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.pytorch_utils import Conv1D

    config = AutoConfig.from_pretrained(baseline)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    conv = [n for n, m in skeleton.named_modules() if isinstance(m, Conv1D)]
    if conv:
        raise KitError(f"method {method.name} does not support the {config.model_type} architecture: its projections "
                       f"({conv[0]} and {len(conv) - 1} more) are Conv1D layers, not the Linear layers llm-compressor's "
                       "schemes target; use a bitsandbytes method (bnb-int8, bnb-nf4) for this model")
