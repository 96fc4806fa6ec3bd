"""How a set is scored: :class:`Protocol` (the comparability key of a record) and the batch factors.

Importable from :mod:`kit.eval.harness` as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kit.errors import KitError
from kit.eval.ordering import DEFAULT_LOOKS, DEFAULT_ORDER_SEED

__all__ = ["BATCH_FACTOR", "Protocol"]


#: Sequences per forward pass, as a multiple of ``Protocol.batch_size`` (the 512-token windows of a
#: text set), for the short multiple-choice rows and chat prompts. Larger factors (16, 8) ran the
#: full sets faster and scored the fp32 baseline identically, but they changed LLM.int8's scores:
#: bitsandbytes picks its fp16 outlier columns per batch, so an int8 model's numbers depend on which
#: rows share a forward pass (on the full sets its everyday-mc accuracy moved by 4 items and the
#: chat-assistant gate went from pass to inconclusive). The factors stay where the policy limits
#: were measured; changing them is a protocol change that needs the pilot re-run.
BATCH_FACTOR = {"multiple_choice": 4, "generation": 2}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How a set is scored; two records are comparable only when their protocols are equal."""

    context_length: int = 512
    stride: int | None = None  # None → context_length (disjoint windows)
    max_tokens: int | None = None  # text sets: score only the first N tokens
    limit: int | None = None  # MC / generation: first N items
    batch_size: int = 4
    max_new_tokens: int = 8
    chat_template: bool = True
    latency_prompt_tokens: int = 128
    latency_new_tokens: int = 16
    latency_repeats: int = 3  # per-token latency drifts over seconds on a shared VM: see make bench's CV
    warmup: int = 1
    #: seeded scoring order (windows / items shuffled once); None = natural order, one segment (old records)
    order_seed: int | None = DEFAULT_ORDER_SEED
    looks: tuple[float, ...] = DEFAULT_LOOKS  # planned look fractions; batches never straddle a look

    def __post_init__(self) -> None:
        """Refuse settings that would silently drop items or tokens (negative slices, zero windows)."""
        lows = {"context_length": 2, "stride": 1, "max_tokens": 2, "limit": 1, "batch_size": 1, "max_new_tokens": 1,
                "latency_prompt_tokens": 1, "latency_new_tokens": 1, "latency_repeats": 1, "warmup": 0}
        for name, low in lows.items():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
                flag = {"latency_repeats": "repeats"}.get(name, name).replace("_", "-")
                raise KitError(f"{name} (--{flag}) must be an integer ≥ {low}, got {value!r}")
        if self.stride is not None and self.stride > self.context_length:
            raise KitError(f"stride {self.stride} is longer than context_length {self.context_length}; "
                           f"pass --stride 1..{self.context_length}")
        looks = tuple(self.looks)
        if not looks or looks[-1] != 1 or any(not a < b for a, b in zip((0.0, *looks), looks)):
            raise KitError(f"looks must be increasing fractions in (0, 1] ending at 1, got {list(looks)}")
        if self.order_seed is not None and (not isinstance(self.order_seed, int) or isinstance(self.order_seed, bool)):
            raise KitError(f"order_seed must be an integer or None, got {self.order_seed!r}")

    def unit(self, kind: str) -> int:
        """Units (windows or items) per batch of ``kind``: look boundaries fall on multiples of it.

        Multiple-choice batches are formed inside each segment (its requests sorted by length),
        so any item count is a batch boundary there.

        Args:
            kind: the set's kind.
        """
        return {"text": self.batch_size, "generation": self.batch_size * BATCH_FACTOR["generation"]}.get(kind, 1)

    def _order(self) -> dict[str, Any]:
        if self.order_seed is None:
            return {}
        return {"order": {"seed": self.order_seed, "looks": list(self.looks), "batches": "formed inside each look"}}

    def for_kind(self, kind: str) -> dict[str, Any]:
        """The fields that define the scoring of ``kind`` (the comparability key).

        Args:
            kind: the set's kind.
        """
        if kind == "text":
            return {"kind": kind, "metric": "token perplexity", "context_length": self.context_length,
                    "stride": self.stride or self.context_length, "max_tokens": self.max_tokens,
                    "join": "\\n\\n between records", "bos": "none (tokenizer default)",
                    "windows": "every token after the first scored once; step = min(stride, context_length-1)",
                    "first_token": "not scored (no context)"} | self._order()
        if kind == "multiple_choice":
            return {"kind": kind, "metric": "log-likelihood accuracy", "separator": " ", "limit": self.limit,
                    "normalisation": "primary: sum log-likelihood / characters of choice; also plain sum"} | self._order()
        return {"kind": kind, "metric": "greedy exact/contains match", "limit": self.limit,
                "max_new_tokens": self.max_new_tokens, "chat_template": self.chat_template} | self._order()
