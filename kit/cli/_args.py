"""Arguments shared by several ``kit`` command groups (the evaluation protocol, the calibration)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

__all__ = ["add_calibration_args", "add_protocol_args", "calibration_from_args", "protocol_from_args"]


class _ProtocolHelp(str):
    """Help text whose ``{default}`` is a :class:`~kit.eval.harness.Protocol` field's default.

    Filled in only when help is shown (argparse formats help with ``%``), so building the
    parser does not import the harness (and torch).
    """

    field: str

    def __new__(cls, text: str, *, field: str) -> _ProtocolHelp:
        help_text = super().__new__(cls, text)
        help_text.field = field
        return help_text

    def __mod__(self, params: Any) -> str:
        from kit.eval.harness import Protocol

        default = {f.name: f.default for f in dataclasses.fields(Protocol)}[self.field]
        return str(self).replace("{default}", str(default)) % params


def protocol_from_args(args: argparse.Namespace) -> Any:
    from kit.eval.harness import Protocol

    given = {"context_length": args.context_length, "batch_size": args.batch_size, "latency_repeats": args.repeats}
    return Protocol(stride=args.stride, max_tokens=args.max_tokens, limit=args.limit,
                    **{k: v for k, v in given.items() if v is not None})  # unset: the Protocol's own default


def add_protocol_args(p: argparse.ArgumentParser) -> None:
    per_window = _ProtocolHelp("tokens per perplexity window (default {default})", field="context_length")
    p.add_argument("--context-length", type=int, default=None, help=per_window)
    p.add_argument("--stride", type=int, default=None, help="step between windows (default: context length)")
    p.add_argument("--max-tokens", type=int, default=None, help="text sets: score only the first N tokens")
    p.add_argument("--limit", type=int, default=None, help="MC/generation sets: first N items")
    p.add_argument("--batch-size", type=int, default=None,
                   help=_ProtocolHelp("windows per forward pass (default {default})", field="batch_size"))
    p.add_argument("--repeats", type=int, default=None,
                   help=_ProtocolHelp("timed latency repeats after one warm-up (default {default})", field="latency_repeats"))
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available)")
    p.add_argument("--no-speed", action="store_true", help="skip latency/throughput measurement")


def add_calibration_args(p: argparse.ArgumentParser, *, seed: bool = True) -> None:
    """``--calibration``, ``--samples``, ``--seq-len`` (and ``--seed``), defaults from :class:`CalibrationSpec`.

    Args:
        p: the subcommand's parser.
        seed: add ``--seed`` too.
    """
    from kit.quant.spec import DEFAULT_CALIBRATION as cal

    p.add_argument("--calibration", default=cal.name, help=f"calibration set for gptq/awq (default {cal.name})")
    p.add_argument("--samples", type=int, default=cal.samples, help=f"calibration chunks (default {cal.samples})")
    p.add_argument("--seq-len", type=int, default=cal.seq_len, help=f"tokens per calibration chunk (default {cal.seq_len})")
    if seed:
        p.add_argument("--seed", type=int, default=cal.seed, help=f"seed for choosing the chunks (default {cal.seed})")


def calibration_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~kit.quant.spec.CalibrationSpec` the calibration flags describe.

    Args:
        args: parsed arguments of a parser given :func:`add_calibration_args`.
    """
    from kit.quant.spec import CalibrationSpec

    return CalibrationSpec.build(name=args.calibration, samples=args.samples, seq_len=args.seq_len,
                                 seed=getattr(args, "seed", None))
