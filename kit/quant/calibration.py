"""Calibration samples: fixed-length token chunks drawn deterministically from a text set."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.eval.sets import bundled_sets, load_set

__all__ = ["Calibration", "calibration_chunks", "recorded_source"]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """``samples`` disjoint chunks of ``seq_len`` tokens, and how they were chosen."""

    name: str
    path: str
    sha256: str  # of the set's file
    samples: int
    seq_len: int
    seed: int
    stream_tokens: int  # tokens in the whole joined set
    starts: tuple[int, ...]  # token offset of each chunk in the stream
    chunks: tuple[tuple[int, ...], ...]

    def record(self) -> dict[str, Any]:
        """The config-log entry: set, hash, sizes, seed and the chunk offsets (enough to rebuild)."""
        digest = hashlib.sha256(json.dumps(self.chunks).encode()).hexdigest()
        return {
            "name": self.name, "path": self.path, "sha256": self.sha256, "samples": self.samples,
            "seq_len": self.seq_len, "seed": self.seed, "tokens": self.samples * self.seq_len,
            "stream_tokens": self.stream_tokens, "join": "\\n\\n between records, no special tokens",
            "selection": "disjoint seq_len windows of the stream, random.Random(seed).sample, sorted",
            "starts": list(self.starts), "chunks_sha256": digest,
        }


def calibration_chunks(*, name: str, tokenizer: Any, samples: int, seq_len: int, seed: int) -> Calibration:
    """Tokenise a calibration set and pick ``samples`` disjoint ``seq_len`` chunks with ``seed``.

    Args:
        name: bundled calibration set name or a ``.jsonl``/``.txt`` path (text kind).
        tokenizer: the model's tokenizer.
        samples: how many chunks.
        seq_len: tokens per chunk.
        seed: seeds ``random.Random`` for the choice of chunks.
    """
    if samples < 1 or seq_len < 2:
        raise KitError(f"calibration needs samples ≥1 and seq_len ≥2, got {samples} and {seq_len}; fix --samples/--seq-len")
    dataset = load_set(name, folder="calibration")
    ids = tokenizer("\n\n".join(dataset.texts()), add_special_tokens=False).input_ids
    available = len(ids) // seq_len
    if samples > available:
        raise KitError(f"calibration set '{dataset.name}' has {len(ids)} tokens = {available} chunks of {seq_len}; "
                       f"lower --samples to ≤{available} or --seq-len, or pass a larger set")
    picked = sorted(random.Random(seed).sample(range(available), samples))
    starts = tuple(i * seq_len for i in picked)
    return Calibration(
        name=dataset.name, path=str(dataset.path), sha256=dataset.sha256, samples=samples, seq_len=seq_len,
        seed=seed, stream_tokens=len(ids), starts=starts,
        chunks=tuple(tuple(ids[s:s + seq_len]) for s in starts),
    )


def recorded_source(record: dict[str, Any]) -> str:
    """Where to read a logged calibration set now: its recorded file, else the bundled set of that name.

    A bundled set's recorded path is the checkout that made the artifact (another clone, a deleted
    worktree); the bundled name with the same hash is the same data.

    Args:
        record: the ``calibration`` entry of a ``kit-quantization.json`` log.
    """
    path, name = record.get("path"), str(record.get("name") or "")
    if path and Path(path).is_file():
        return str(path)
    if name in bundled_sets("calibration"):
        return name
    raise KitError(f"calibration set '{name}' was read from {path}, which is gone; "
                   "put the file back there or re-quantize with --calibration naming where it is now")
