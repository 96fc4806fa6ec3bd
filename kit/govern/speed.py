"""Speed-only measurements (``kit.speed/1``): made on the serving hardware, imported, joined by artifact hash.

The accuracy record says whether a model is good enough; what it costs to serve is measured
where it will serve (the team's GPU box), often by someone else. A speed record holds one
model's batch-1 latency, throughput and memory on one engine and one machine, keyed by the
artifact's ``model.sha256``; importing it into the registry joins it to every entry whose
candidate (or baseline) has that hash, and the pilot report shows it beside the pilot's own
numbers, each labelled with the hardware it came from.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import uuid
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.engines import DEFAULT_ENGINE, EngineInfo, engine_of
from kit.errors import KitError

__all__ = ["SPEED_SCHEMA", "check_speed_record", "import_speed", "join_speed", "measure_speed", "read_speed_file",
           "speed_form", "speeds_for"]

SPEED_SCHEMA = "kit.speed/1"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_DDL = ("CREATE TABLE IF NOT EXISTS registry_speed (id TEXT PRIMARY KEY, model_sha256 TEXT NOT NULL, "
        "imported_at TEXT NOT NULL, imported_by TEXT NOT NULL, source TEXT, record TEXT NOT NULL)")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def speed_form(model: dict[str, Any]) -> str:
    """``fp32`` / ``bf16`` / ``fp16`` for an unquantized model, else its method (e.g. ``gptq``).

    Args:
        model: a speed record's (or harness record's) ``model`` section.
    """
    method = model.get("method") or "none"
    if method != "none":
        return method
    return {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}.get(str(model.get("dtype") or "float32"), "fp32")


def check_speed_record(data: Any, *, source: str) -> dict[str, Any]:
    """Refuse a speed record the report cannot use (one-line :class:`KitError` naming the fix).

    Args:
        data: the parsed JSON.
        source: where it came from, for messages.
    """
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise KitError(f"{source}: {what}; write it with `kit speed measure` (schema {SPEED_SCHEMA})")

    need(isinstance(data, dict) and data.get("schema") == SPEED_SCHEMA,
         f"not a {SPEED_SCHEMA} speed record (schema {data.get('schema') if isinstance(data, dict) else None!r})")
    model = data.get("model")
    need(isinstance(model, dict) and isinstance(model.get("sha256"), str) and bool(_SHA.match(model["sha256"])),
         "model.sha256 must be the artifact's 64-hex weights hash")
    try:
        engine_of(model)
    except KitError as exc:
        need(False, f"model.engine: {exc}")
    hw = data.get("hardware")
    need(isinstance(hw, dict) and isinstance(hw.get("label"), str) and bool(hw["label"].strip()),
         "hardware.label must name the machine the numbers came from")
    thr, lat = data.get("throughput"), data.get("latency")
    need(isinstance(thr, dict) and _positive(thr.get("decode_tokens_per_s")),
         "throughput.decode_tokens_per_s must be a finite number > 0")
    need(isinstance(lat, dict) and all(_positive(lat.get(k)) for k in ("decode_ms_p50", "prefill_ms")),
         "latency.decode_ms_p50 and latency.prefill_ms must be finite numbers > 0")
    return data


def read_speed_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a speed record file.

    Args:
        path: the JSON file written by :func:`measure_speed` (``kit speed measure``).
    """
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KitError(f"cannot read speed file {file} ({exc.strerror}); check the path") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KitError(f"{file}: not a JSON speed record ({str(exc).splitlines()[0]}); "
                       "pass the file written by `kit speed measure`") from None
    return check_speed_record(data, source=str(file))


def join_speed(*, speed: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """An accuracy record and a speed record of the same artifact, each figure labelled with its hardware.

    Args:
        speed: a checked speed record.
        record: a harness record (``kit eval --json``) of the same weights.
    """
    got, want = speed["model"]["sha256"], (record.get("model") or {}).get("sha256")
    if got != want:
        raise KitError(f"the speed record is of sha256 {got[:12]}, the accuracy record of {str(want)[:12]}; "
                       "join records of the same artifact")
    hw = (record.get("environment") or {}).get("hardware") or {}
    return {"model": record["model"], "accuracy": {"record": record, "hardware": hw.get("gpu") or hw.get("cpu"),
                                                   "engine": engine_of(record["model"]).label()},
            "speed": {"record": speed, "hardware": speed["hardware"]["label"],
                      "engine": engine_of(speed["model"]).label()}}


def _has_table(reg: Any) -> bool:
    sql = ("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
           if reg.db.kind == "postgres" else "SELECT name FROM sqlite_master WHERE type = 'table'")
    return "registry_speed" in {row[0] for row in reg.db.query(sql)}


def import_speed(*, registry: Any, speed: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Store a checked speed record against the registry entries of its artifact.

    Args:
        registry: an open :class:`~kit.govern.registry.Registry`.
        speed: a checked speed record.
        source: the file it came from.
    """
    from kit.govern._registry_db import current_user

    sha = speed["model"]["sha256"]
    entries = registry.find(sha)
    if not entries:
        raise KitError(f"no registry entry in {registry.location} has a model or baseline of sha256 {sha[:12]}; "
                       "register the model first (`kit pilot`) or check that the file measured the same artifact")
    row_id = uuid.uuid4().hex[:12]
    with registry.db.transaction():
        registry.db.query(_DDL)
        registry.db.query("INSERT INTO registry_speed (id, model_sha256, imported_at, imported_by, source, record) "
                          "VALUES (?, ?, ?, ?, ?, ?)", (row_id, sha, utc_now(precise=True), current_user(), source,
                                                        json.dumps(speed, sort_keys=True)))
    role = ["candidate" if e.model_sha256 == sha else "baseline" for e in entries]
    return {"id": row_id, "sha256": sha, "entries": [e.id for e in entries], "roles": sorted(set(role)),
            "hardware": speed["hardware"]["label"], "engine": engine_of(speed["model"]).label()}


def speeds_for(*, registry: Any, sha256: str) -> list[dict[str, Any]]:
    """Imported speed records of an artifact, oldest first (each with ``source`` and ``imported_at``).

    Args:
        registry: an open registry.
        sha256: the artifact's weights hash.
    """
    if not sha256 or not _has_table(registry):
        return []
    rows = registry.db.query("SELECT record, source, imported_at FROM registry_speed WHERE model_sha256 = ? "
                             "ORDER BY imported_at, id", (sha256,))
    return [json.loads(r[0]) | {"source": r[1], "imported_at": r[2]} for r in rows]


def measure_speed(
    *, model: str, engine: str = DEFAULT_ENGINE, dtype: str | None = None, device: str | None = None,
    hardware: str | None = None, prompt_tokens: int = 128, new_tokens: int = 32, repeats: int = 5, warmup: int = 1,
) -> dict[str, Any]:
    """Load a model on an engine and measure batch-1 latency, throughput and memory: a ``kit.speed/1`` record.

    Args:
        model: alias or folder of the artifact.
        engine: ``reference`` or ``packed`` (:data:`kit.engines.ENGINES`).
        dtype: an unquantized model's dtype (``bfloat16`` measures the bf16 form of the baseline).
        device: ``cpu``/``cuda``; automatic when None.
        hardware: a label for the machine (default: its GPU or CPU name).
        prompt_tokens: prompt length (tokens of the bundled stdlib-docs set).
        new_tokens: tokens decoded per repeat.
        repeats: timed repeats.
        warmup: untimed repeats first.
    """
    from kit.environment import describe_environment
    from kit.eval.harness import _latency_prompt  # the harness's prompt, so numbers compare with its records
    from kit.eval.sets import load_set
    from kit.eval.timing import measure_latency, peak_memory
    from kit.models import load_model

    wanted = EngineInfo(name=engine)  # refuses an unknown name before loading
    for name, value in (("prompt_tokens", prompt_tokens), ("new_tokens", new_tokens), ("repeats", repeats)):
        if not isinstance(value, int) or value < (2 if name == "new_tokens" else 1):
            raise KitError(f"{name} must be a positive integer (new_tokens ≥ 2), got {value!r}")
    accepts = "engine" in inspect.signature(load_model).parameters
    loaded = load_model(model, device=device, dtype=dtype, **({"engine": engine} if accepts else {}))
    used = loaded.engine_info() if hasattr(loaded, "engine_info") else getattr(loaded, "engine", None)
    used = used if isinstance(used, EngineInfo) else EngineInfo(name=used if isinstance(used, str) else
                                                                engine if accepts else DEFAULT_ENGINE)
    note = None if used.name == wanted.name else (f"engine '{engine}' was asked for, but this kit's load_model ran "
                                                  f"'{used.name}'; the numbers are of '{used.name}'")
    prompt = _latency_prompt(load_set("stdlib-docs"), loaded.tokenizer, prompt_tokens)
    with peak_memory(loaded.device) as memory:
        measured = measure_latency(loaded.model, prompt, new_tokens=new_tokens, warmup=warmup, repeats=repeats)
    env = describe_environment(device=loaded.device)
    hw = env["hardware"]
    info = loaded.info() | {"engine": used.to_dict()}
    return {"schema": SPEED_SCHEMA, "created_at": utc_now(),
            "model": info, "form": speed_form(info),
            "hardware": hw | {"label": hardware or f"{hw['device']} ({hw.get('gpu') or hw.get('cpu')}, "
                                                   f"{hw.get('cpu_capability')})"},
            "latency": measured["latency"], "throughput": measured["throughput"],
            "memory": dict(memory, weight_bytes=loaded.weight_bytes()), "environment": env, "note": note}
