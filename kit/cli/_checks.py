"""Checks every ``kit`` command gets before any work: numeric ranges, the device, output paths, context length.

:func:`check_args` runs in :func:`kit.cli.main.main` right after parsing, so a bad flag is a
one-line ``error:`` (exit 2) in well under a second, never after a model has loaded or a
quantization has run. The library functions check the same things for API callers.
"""

from __future__ import annotations

import argparse

from kit.errors import KitError

__all__ = ["MINIMUMS", "check_args"]

#: argparse dest → (smallest allowed value, why). Only flags a command has and the user set are checked.
MINIMUMS: dict[str, tuple[int, str]] = {
    "context_length": (2, "a perplexity window needs a token of context and one to score"),
    "stride": (1, "windows must move forward"),
    "batch_size": (1, "at least one window or item per forward pass"),
    "repeats": (1, "at least one timed run"),
    "max_tokens": (2, "perplexity needs at least 2 tokens"),
    "limit": (1, "at least one item; leave --limit out for the whole set"),
    "samples": (1, "at least one calibration chunk"),
    "seq_len": (1, "at least one token per calibration chunk"),
    "volume": (0, "requests per day cannot be negative"),
    "top": (0, "units measured for sensitivity; 0 skips the step"),
    "rows": (1, "at least one module listed"),
    "max_gates": (1, "the budget of gate runs counts the first one, the candidate as is; 2 or more to search"),
    "gate_tokens": (2, "a rehearsal gate scores at least 2 tokens"),
    "gate_limit": (1, "at least one item; leave --gate-limit out for the whole set"),
}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_args(args: argparse.Namespace) -> None:
    """Refuse out-of-range numbers, an unknown or absent device, unwritable outputs and too-long contexts.

    Args:
        args: the parsed command line.
    """
    for dest, (low, why) in MINIMUMS.items():
        value = getattr(args, dest, None)
        if value is not None and value < low:
            raise KitError(f"{_flag(dest)} must be ≥ {low}, got {value} ({why})")
    context, stride = getattr(args, "context_length", None), getattr(args, "stride", None)
    if context is None and hasattr(args, "context_length"):  # unset: the protocol's default window
        from kit.eval.harness import Protocol

        context = Protocol().context_length
    if context is not None and stride is not None and stride > context:
        raise KitError(f"--stride {stride} is longer than --context-length {context}, so tokens between windows "
                       f"would never be scored; pass --stride 1..{context} (or leave it out)")
    if getattr(args, "device", None) is not None:
        from kit.models import check_device

        check_device(args.device)
    _check_outputs(args)
    _check_use_case(args)
    kinds = _check_inputs(args)
    model = getattr(args, "model", None)
    if context is not None and isinstance(model, str) and (not kinds or "text" in kinds):
        from kit.models import check_context_length

        check_context_length(model, context)


def _check_outputs(args: argparse.Namespace) -> None:
    from kit.io import check_writable

    if getattr(args, "json", None):
        check_writable(args.json, what="--json")
    if getattr(args, "out", None):
        check_writable(args.out, what="--out", kind="folder")
    if getattr(args, "out_dir", None):
        check_writable(args.out_dir, what="--out-dir", kind="into")


def _check_use_case(args: argparse.Namespace) -> None:
    """A use case named on the command line exists in the policy file (the error offers the nearest name)."""
    use_case = getattr(args, "use_case", None)
    if isinstance(use_case, str) and getattr(args, "command", None) != "registry":  # registry list filters stored rows
        from kit.govern.policy import get_policy

        get_policy(use_case, path=getattr(args, "policies", None))


def _check_inputs(args: argparse.Namespace) -> set[str]:
    """Read the eval, calibration and policy files now (UTF-8, format), not after a model has loaded; return the set kinds."""
    from kit.eval.sets import load_set

    sets = list(getattr(args, "eval", None) or [])
    if getattr(args, "command", None) == "pilot" and args.use_case:  # with --like only: the entry's, checked later
        from kit.govern.policy import get_policy

        sets += get_policy(args.use_case, path=args.policies).eval_sets
    kinds = {load_set(ref).kind for ref in sets}
    if isinstance(getattr(args, "calibration", None), str):
        load_set(args.calibration, folder="calibration")
    return kinds
