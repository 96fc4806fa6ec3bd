"""Running statistics: error sums and activation moments updated batch by batch, never stored.

Each accumulator keeps a handful of sums (or one vector per input channel), so memory does not
grow with the number of tokens seen.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["ErrorStats", "MomentStats", "error_metrics", "module_names", "unit_of"]

_EPS = 1e-30


@dataclasses.dataclass
class ErrorStats:
    """Σ reference², Σ (candidate − reference)², Σ reference·candidate, Σ candidate² over all elements."""

    signal: float = 0.0
    noise: float = 0.0
    dot: float = 0.0
    cand: float = 0.0
    elements: int = 0

    def update(self, reference: Any, candidate: Any) -> None:
        """Add one batch (tensors of the same shape).

        Args:
            reference: the baseline output.
            candidate: the candidate output on the same tokens.
        """
        r, c = reference.detach().double().flatten(), candidate.detach().double().flatten()
        self.signal += float(r @ r)
        self.noise += float((c - r) @ (c - r))
        self.dot += float(r @ c)
        self.cand += float(c @ c)
        self.elements += r.numel()

    def metrics(self) -> dict[str, float]:
        """SQNR (dB), relative L2 error and cosine similarity of everything seen so far."""
        return error_metrics(signal=self.signal, noise=self.noise, dot=self.dot, cand=self.cand)


def error_metrics(*, signal: float, noise: float, dot: float, cand: float) -> dict[str, float]:
    """SQNR = 10·log10(Σr²/Σ(c−r)²), relative L2 = √(Σ(c−r)²/Σr²), cosine = Σrc/√(Σr²·Σc²).

    Args:
        signal: Σ reference².
        noise: Σ (candidate − reference)².
        dot: Σ reference·candidate.
        cand: Σ candidate².
    """
    sqnr = 10 * math.log10(max(signal, _EPS) / noise) if noise > 0 else math.inf
    return {"sqnr_db": sqnr, "rel_l2": math.sqrt(noise / max(signal, _EPS)),
            "cosine": dot / math.sqrt(max(signal * cand, _EPS))}


@dataclasses.dataclass
class MomentStats:
    """Per-input-channel max |x| plus Σx, Σx², Σx³, Σx⁴ over all elements, and a log-|x| histogram."""

    edges: Any = None  # histogram bin edges of log10|x|
    counts: Any = None
    channel_max: Any = None
    sums: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    elements: int = 0
    max_abs: float = 0.0

    def update(self, x: Any) -> None:
        """Add one batch of activations (last dimension = channels).

        Args:
            x: the module input.
        """
        import torch

        x = x.detach().float().reshape(-1, x.shape[-1])
        a = x.abs()
        cmax = a.amax(dim=0)
        self.channel_max = cmax if self.channel_max is None else torch.maximum(self.channel_max, cmax)
        d = x.double()
        for k in range(4):
            self.sums[k] += float((d ** (k + 1)).sum())
        self.elements += x.numel()
        self.max_abs = max(self.max_abs, float(a.max()))
        if self.edges is None:
            self.edges = torch.linspace(-6, 4, 101)
            self.counts = torch.zeros(100)
        logs = torch.log10(a.flatten().clamp_min(1e-6)).clamp(-6, 3.999)
        self.counts += torch.histc(logs, bins=100, min=-6, max=4)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of |x|, read from the histogram (upper bin edge).

        Args:
            q: 0–100.
        """
        import torch

        cum = torch.cumsum(self.counts, 0) / max(float(self.counts.sum()), 1.0)
        i = int(torch.searchsorted(cum, torch.tensor(q / 100.0)))
        return float(10 ** self.edges[min(i + 1, len(self.edges) - 1)])

    def kurtosis(self) -> float:
        """Pearson kurtosis E[(x−μ)⁴]/σ⁴ (3 for a Gaussian) from the running moments."""
        n = max(self.elements, 1)
        m1, m2, m3, m4 = (s / n for s in self.sums)
        var = m2 - m1 ** 2
        central4 = m4 - 4 * m1 * m3 + 6 * m1 ** 2 * m2 - 3 * m1 ** 4
        return central4 / var ** 2 if var > 0 else math.nan


def module_names(model: Any) -> dict[str, Any]:
    """The modules the instruments watch, by name: every Linear and Embedding, and each decoder block.

    Args:
        model: a causal LM (``transformers`` ``PreTrainedModel``).
    """
    import torch

    blocks = _block_list(model)
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)) or (blocks and module in blocks):
            out[name] = module
    return out


def _block_list(model: Any) -> list[Any]:
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) > 1:
            return list(module)
    return []


def unit_of(name: str) -> str:
    """The block a module belongs to (``model.layers.7.mlp.down_proj`` → ``model.layers.7``), else the name.

    Args:
        name: a module name.
    """
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[: i + 1])
    return name
