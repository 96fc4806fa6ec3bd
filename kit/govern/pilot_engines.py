"""Which engine a pilot evaluates each candidate on, and the baseline's served form measured in the same run.

The team's question is whether what will *serve* stays within tolerance of the trusted
reference. So by default (``engine="serving"``) a candidate whose artifact the packed engine
can run here (compressed-tensors int4 groups or per-channel int8, on the CPU) is evaluated
there, from the saved artifact's own integer codes; anything else (bitsandbytes, a GPU run)
keeps the reference engine, which is also how bitsandbytes serves. The baseline stays on the
reference engine: the gate's sanctioned pairing (:mod:`kit.govern.gate`).

Savings are compared against the baseline as it would be served on the same hardware: when
a candidate runs with bf16 activations, the baseline's bf16 form is timed in the same run
(:func:`kit.govern.speed.measure_speed`, the harness's latency settings) and kept beside its
records under ``served_forms``, where the report's efficiency section finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.console import stage
from kit.errors import KitError
from kit.eval.harness import Protocol

__all__ = ["SERVED_FORMS_KEY", "attach_served_forms", "measure_served_forms", "serving_models"]

#: Where a baseline record keeps the speed records of its other forms measured in the same pilot.
SERVED_FORMS_KEY = "served_forms"


def _packed_or_why(q: Any) -> tuple[Any | None, str | None]:
    """The candidate loaded on the packed engine, or None and the one-line reason it cannot be."""
    from kit.models import check_engine, load_model

    loaded = q.model
    try:
        check_engine("packed", device=loaded.device, quant=loaded.quantization, path=q.path)
    except KitError as exc:
        return None, str(exc).split(":")[0]
    return load_model(str(q.path), engine="packed"), None


def serving_models(*, quantized: Sequence[Any], methods: Sequence[str], engine: str) -> list[Any]:
    """Each quantized candidate as the pilot will evaluate it, with one ``engine`` line per candidate.

    Args:
        quantized: the pilot's :class:`~kit.quant.quantize.QuantResult` s (artifact saved, reference model loaded).
        methods: their method names (for the lines).
        engine: ``serving`` (packed where the artifact allows) or ``reference`` (:data:`PILOT_ENGINES`).
    """
    chosen = []
    for q, method in zip(quantized, methods):
        packed, why = _packed_or_why(q) if engine == "serving" else (None, "asked for the reference engine")
        model = packed if packed is not None else q.model
        detail = (f"{(model.served or {}).get('group_size') or 'per-channel'} group, from the artifact's codes"
                  if packed is not None else why)
        stage("engine", f"{method} evaluated on {model.engine_info().label()} ({detail})")
        chosen.append(model)
    return chosen


def measure_served_forms(*, model: str, candidates: Sequence[Any], protocol: Protocol,
                         device: str | None) -> list[dict[str, Any]]:
    """Time the baseline's bf16 form when some candidate runs with bf16 activations (else nothing to compare).

    Args:
        model: the baseline (alias or folder).
        candidates: the loaded candidates as evaluated (their engines say whether bf16 is in play).
        protocol: the pilot's protocol (its latency prompt, tokens, repeats and warm-up).
        device: the pilot's device.
    """
    from kit.govern.speed import measure_speed

    if not any(c.engine_info().activations == "bfloat16" for c in candidates):
        return []
    record = measure_speed(model=model, dtype="bfloat16", device=device, prompt_tokens=protocol.latency_prompt_tokens,
                           new_tokens=protocol.latency_new_tokens, repeats=protocol.latency_repeats,
                           warmup=protocol.warmup)
    stage("served", f"baseline bf16 form: {record['throughput'].get('decode_tokens_per_s', 0):.1f} decode tok/s on "
                    f"{record['hardware']['label']} (the baseline as it could be served; timed in this run)")
    return [record]


def attach_served_forms(records: list[dict[str, Any]], forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The baseline's records with ``forms`` kept on the timed one (a copy; cached records stay untouched).

    Args:
        records: the baseline's records, in set order.
        forms: from :func:`measure_served_forms`.
    """
    if not forms:
        return records
    timed = next((i for i, r in enumerate(records) if r.get("latency")), 0)
    return [dict(r, **{SERVED_FORMS_KEY: forms}) if i == timed else r for i, r in enumerate(records)]
