"""A cache of baseline evaluation records, so a second pilot of the same model does not re-run the baseline.

An entry is keyed by everything that decides the record's numbers: the weights' sha256, the
eval set's sha256, the full scoring protocol (and whether speed was measured), and the stack
fingerprint (library versions, device kind). Entries live under ``<kit cache>/records/`` and
are written atomically (``$KIT_RECORD_CACHE`` moves them); an entry that cannot be read, or whose stored key does not match, is
ignored (a miss) and rewritten by the next store — never trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.eval.record import SCHEMA
from kit.io import atomic_write_json, cache_dir

__all__ = ["CACHE_SCHEMA", "RecordCache", "baseline_keys", "record_key"]

CACHE_SCHEMA = "kit.record-cache/1"


def record_key(*, weights_sha256: str, set_sha256: str, protocol: Any, measure_speed: bool,
               stack: dict[str, Any]) -> dict[str, Any]:
    """The fields a cached record is keyed by (JSON data; its hash names the entry).

    Args:
        weights_sha256: the model's weights hash.
        set_sha256: the eval set file's hash.
        protocol: the scoring :class:`~kit.eval.harness.Protocol` (or its dict).
        measure_speed: whether the record carries latency/throughput.
        stack: :func:`kit.environment.stack_fingerprint` of the evaluating environment.
    """
    proto = (dataclasses.asdict(protocol) if dataclasses.is_dataclass(protocol) and not isinstance(protocol, type)
             else dict(protocol))
    return {"schema": SCHEMA, "weights_sha256": weights_sha256, "set_sha256": set_sha256, "protocol": proto,
            "measure_speed": bool(measure_speed), "stack": stack}


def _digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


class RecordCache:
    """Baseline records on disk, one JSON file per key (``$KIT_CACHE/records`` by default)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        """Open (lazily create) the cache folder.

        Args:
            root: the folder holding entries; ``$KIT_RECORD_CACHE`` or ``<kit cache dir>/records`` when None.
        """
        env = os.environ.get("KIT_RECORD_CACHE")
        self.root = Path(root) if root is not None else Path(env) if env else cache_dir() / "records"

    def path(self, key: dict[str, Any]) -> Path:
        """The entry file for ``key``.

        Args:
            key: from :func:`record_key`.
        """
        return self.root / f"{_digest(key)}.json"

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The cached record for ``key``, or None on a miss or an unreadable/mismatching entry.

        Args:
            key: from :func:`record_key`.
        """
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if (not isinstance(entry, dict) or entry.get("schema") != CACHE_SCHEMA
                or json.dumps(entry.get("key"), sort_keys=True, default=str) != json.dumps(key, sort_keys=True, default=str)
                or not isinstance(entry.get("record"), dict) or entry["record"].get("schema") != SCHEMA):
            return None
        return entry["record"]

    def put(self, key: dict[str, Any], record: dict[str, Any]) -> Path:
        """Store ``record`` under ``key`` (atomically; replaces any entry there, corrupt or not).

        Args:
            key: from :func:`record_key`.
            record: a harness record (JSON data).
        """
        return atomic_write_json(self.path(key), {"schema": CACHE_SCHEMA, "key": key, "record": record})


def baseline_keys(*, model: Any, sets: Sequence[tuple[str, Any]], measure_speed: bool) -> list[dict[str, Any] | None]:
    """One cache key per (set, protocol) for a baseline evaluated as the pilot does (speed on the first set only).

    None for every set when the model has no weights hash (nothing to key it by).

    Args:
        model: the loaded baseline (``LoadedModel``).
        sets: (eval set name or path, protocol) pairs.
        measure_speed: whether latency/throughput is measured (on the first set).
    """
    from kit.environment import describe_environment, stack_fingerprint
    from kit.eval.sets import load_set

    if not getattr(model, "sha256", None):
        return [None] * len(sets)
    stack = stack_fingerprint(describe_environment(device=model.device))
    return [record_key(weights_sha256=model.sha256, set_sha256=load_set(name).sha256, protocol=protocol,
                       measure_speed=measure_speed and i == 0, stack=stack)
            for i, (name, protocol) in enumerate(sets)]
