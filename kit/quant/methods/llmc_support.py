"""Around the llm-compressor adapter: its logs kept quiet, and the config-log records of its modifiers and searches."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["modifier_record", "quiet", "torch_threads", "tuning_record"]


def torch_threads() -> int:
    """The threads torch runs on (logged: CPU times depend on it)."""
    import torch

    return int(torch.get_num_threads())


@contextlib.contextmanager
def quiet(mute: bool) -> Iterator[None]:
    """While ``mute``: silence llm-compressor's and auto-round's log lines and their tqdm bars (progress off).

    Args:
        mute: whether to silence them.
    """
    from loguru import logger

    if not mute:
        yield
        return
    names = ("llmcompressor", "compressed_tensors")
    for name in names:
        logger.disable(name)
    autoround = logging.getLogger("autoround")  # auto-round's own logger (stdlib logging)
    was_disabled, autoround.disabled = autoround.disabled, True
    try:
        # Its tqdm bars look up sys.stderr when created; log handlers keep the real stream. Importing
        # llm-compressor re-enables its logger and adds a sink on sys.stdout as it is then, and logs
        # "No accelerator available!" during the import: that sink must not be the terminal.
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        autoround.disabled = was_disabled
        for name in names:
            logger.enable(name)


def modifier_record(modifier: Any) -> dict[str, Any]:
    """A modifier's user settings (its config group is logged once under ``weights``).

    Args:
        modifier: an llm-compressor modifier.
    """
    fields = modifier.model_dump(mode="json", exclude_none=True, exclude={"config_groups"})
    return {"type": type(modifier).__name__, **{k: v for k, v in fields.items() if not k.endswith("_")}}


def tuning_record(*, method: str, chosen: Any, batch_size: int) -> dict[str, Any] | None:
    """The searches' settings for the log: AWQ's scale grid and clipping grid, AutoRound's steps; None for others.

    Args:
        method: the method name.
        chosen: its resolved ``kit.quant.methods.llmc.LlmcScheme``.
        batch_size: calibration chunks per forward pass (AutoRound's samples per step).
    """
    if method == "awq":
        from kit.quant.methods.awq_clip import CLIP_GRID

        return {"scale_grid": chosen.n_grid, "duo_scaling": chosen.duo_scaling,
                "search_samples": chosen.search_samples or "all",
                "clip": {**CLIP_GRID.record(), "search_samples": chosen.search_samples or "all",
                         "applied": "before the final min-max scales"} if chosen.clip else None}
    if method == "autoround":
        import importlib.metadata

        return {"iters": chosen.iters, "lr": chosen.resolved_lr,
                "lr_rule": "given" if chosen.lr is not None else "1/iters (auto-round's rule at 4-8 bits)",
                "batch_size": batch_size, "torch_compile": False,
                "zero_points": "AutoRound's own, shifted to the signed convention (kit.quant.methods.autoround_zp)",
                "auto_round": importlib.metadata.version("auto-round")}
    return None
