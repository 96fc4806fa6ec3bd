"""The shared harness: model + evaluation set → one JSON record (accuracy, latency, memory, throughput).

:class:`~kit.eval.protocol.Protocol` and ``BATCH_FACTOR`` live in :mod:`kit.eval.protocol` and stay importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kit.clock import utc_now
from kit.engines import DEFAULT_ENGINE
from kit.environment import describe_environment
from kit.errors import KitError
from kit.eval.ordering import chosen_units, merge_scores, order_info, segments
from kit.eval.protocol import BATCH_FACTOR, Protocol
from kit.eval.record import SCHEMA, EvalRecord
from kit.eval.scoring import make_windows, score_generation, score_multiple_choice, score_perplexity, score_perplexity_many
from kit.eval.sets import EvalSet, load_set
from kit.eval.timing import measure_latency, peak_memory
from kit.models import LoadedModel, load_model

__all__ = ["BATCH_FACTOR", "SCHEMA", "Protocol", "evaluate", "evaluate_many", "tokens_for"]


def tokens_for(eval_set: EvalSet, tokenizer: Any, *, max_tokens: int | None = None) -> list[int]:
    """The token stream a text set is scored on: records joined by blank lines.

    Args:
        eval_set: a text set.
        tokenizer: the model's tokenizer.
        max_tokens: truncate to the first N tokens.
    """
    ids = tokenizer("\n\n".join(eval_set.texts()), add_special_tokens=False).input_ids
    if len(ids) < 2:
        raise KitError(f"set '{eval_set.name}' tokenises to {len(ids)} token(s); perplexity needs at least 2")
    return ids[:max_tokens] if max_tokens else ids


def _as_model(model: LoadedModel | str, device: str | None, engine: str = DEFAULT_ENGINE) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else load_model(model, device=device, engine=engine)


def _units(dataset: EvalSet, tok: Any, protocol: Protocol) -> tuple[list[Any], list[int] | None]:
    """The set's scoring units in natural order (windows of a text set, else items), and the token ids."""
    if dataset.kind == "text":
        ids = tokens_for(dataset, tok, max_tokens=protocol.max_tokens)
        return make_windows(len(ids), context_length=protocol.context_length,
                            stride=protocol.stride or protocol.context_length), ids
    return list(dataset.items[: protocol.limit] if protocol.limit else dataset.items), None


def _segments(dataset: EvalSet, units: list[Any], protocol: Protocol) -> list[list[int]]:
    return segments(len(units), seed=protocol.order_seed, looks=protocol.looks, unit=protocol.unit(dataset.kind))


def _score(
    model: LoadedModel, eval_set: EvalSet, protocol: Protocol, baseline: LoadedModel | None, progress: bool,
    looks: range | None, first: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Scores of the segments in ``looks`` (all when None; their ``first`` units only if given), merged, and ``order``."""
    tok, m = model.tokenizer, model.model
    units, ids = _units(eval_set, tok, protocol)
    segs = _segments(eval_set, units, protocol)
    chosen = range(len(segs)) if looks is None else looks
    order = order_info(seed=protocol.order_seed, segs=segs, scored=chosen, first=first)
    if ids is not None and baseline is not None and tokens_for(eval_set, baseline.tokenizer,
                                                               max_tokens=protocol.max_tokens) != ids:
        raise KitError("model and baseline tokenise the set differently; agreement needs the same tokenizer")
    parts = []
    for part in chosen_units(segs, chosen, first=first):
        subset = [units[k] for k in part]
        if eval_set.kind == "text":
            parts.append(score_perplexity(m, ids, context_length=protocol.context_length,
                                          stride=protocol.stride or protocol.context_length,
                                          batch_size=protocol.batch_size, pad_id=tok.pad_token_id,
                                          reference=baseline.model if baseline else None, progress=progress,
                                          windows=subset))
        elif eval_set.kind == "multiple_choice":
            parts.append(score_multiple_choice(m, tok, subset, progress=progress,
                                               batch_size=protocol.batch_size * BATCH_FACTOR["multiple_choice"]))
        else:
            use_chat = protocol.chat_template and bool(getattr(tok, "chat_template", None))
            parts.append(score_generation(m, tok, subset, max_new_tokens=protocol.max_new_tokens,
                                          batch_size=protocol.batch_size * BATCH_FACTOR["generation"],
                                          chat_template=use_chat, progress=progress))
    return merge_scores(eval_set.kind, parts), order


def _check_context(loaded: LoadedModel, protocol: Protocol) -> None:
    longest = getattr(getattr(loaded.model, "config", None), "max_position_embeddings", None)
    if isinstance(longest, int) and protocol.context_length > longest:
        raise KitError(f"context length {protocol.context_length} exceeds {loaded.ref}'s maximum of {longest} tokens; "
                       f"pass --context-length {min(longest, 512)}")


def _latency_prompt(eval_set: EvalSet, tokenizer: Any, n: int) -> list[int]:
    field = "text" if eval_set.kind == "text" else "prompt"
    text = "\n\n".join(item[field] for item in eval_set.items[:64])
    ids = tokenizer(text, add_special_tokens=False).input_ids
    while len(ids) < n:  # short sets: repeat to reach the requested prompt length
        ids = ids + ids
    return ids[:n]


def evaluate(
    *,
    model: LoadedModel | str,
    eval_set: EvalSet | str,
    baseline: LoadedModel | str | None = None,
    protocol: Protocol | None = None,
    measure_speed: bool = True,
    device: str | None = None,
    progress: bool = True,
    engine: str = DEFAULT_ENGINE,
    looks: range | None = None,
    first: int | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``eval_set`` and return one record as JSON data (:meth:`EvalRecord.to_dict`).

    Args:
        model: a loaded model or a reference (alias, folder, hub id).
        eval_set: a loaded set, a bundled name, or a ``.jsonl``/``.txt`` path.
        baseline: the full-precision reference for agreement (top-1, KL) on text sets.
        protocol: scoring settings; defaults to :class:`Protocol()`.
        measure_speed: also measure latency and throughput (skip for quick accuracy checks).
        device: where to load references given as strings; automatic when None.
        progress: show progress bars.
        engine: the engine a ``model`` given as a reference loads on (``reference`` or ``packed``); the baseline
            always loads on the reference engine. The record states it under ``model.engine``.
        looks: score only these segments of the seeded order (a partial record; see :mod:`kit.eval.ordering`);
            the whole set when None.
        first: score only the first this many units of those segments (a stub record of a candidate that already
            failed on another set, so its verdict keeps a line per metric); all when None.
    """
    started = time.perf_counter()
    protocol = protocol or Protocol()
    loaded = _as_model(model, device, engine)
    ref = _as_model(baseline, loaded.device) if baseline is not None else None
    dataset = eval_set if isinstance(eval_set, EvalSet) else load_set(eval_set)
    if dataset.kind == "text":
        _check_context(loaded, protocol)
    with peak_memory(loaded.device) as memory:
        t0 = time.perf_counter()
        scores, order = _score(loaded, dataset, protocol, ref, progress, looks, first)
        eval_seconds = time.perf_counter() - t0
        speed = _speed(loaded, dataset, protocol, measure_speed)
    return _record(loaded=loaded, ref=ref, dataset=dataset, protocol=protocol, scores=scores, speed=speed,
                   memory=memory, order=order, seconds={"scoring": round(eval_seconds, 3),
                                           "total": round(time.perf_counter() - started, 3)})


def _speed(loaded: LoadedModel, dataset: EvalSet, protocol: Protocol, measure: bool) -> dict[str, Any]:
    if not measure:
        return {"latency": None, "throughput": {}}
    return measure_latency(loaded.model, _latency_prompt(dataset, loaded.tokenizer, protocol.latency_prompt_tokens),
                           new_tokens=protocol.latency_new_tokens, warmup=protocol.warmup,
                           repeats=protocol.latency_repeats)


def _record(*, loaded: LoadedModel, ref: LoadedModel | None, dataset: EvalSet, protocol: Protocol,
            scores: dict[str, Any], speed: dict[str, Any], memory: dict[str, Any],
            seconds: dict[str, Any], order: dict[str, Any] | None) -> dict[str, Any]:
    agreement = scores.pop("agreement", None)
    throughput = dict(speed["throughput"])
    if dataset.kind == "text":
        throughput["eval_tokens_per_s"] = scores["tokens_scored"] / max(seconds["scoring"], 1e-9)
    memory = dict(memory, weight_bytes=loaded.weight_bytes(), rss_after_load_bytes=loaded.rss_after_load_bytes)
    return EvalRecord(
        created_at=utc_now(),
        model=loaded.info(),
        baseline={"ref": ref.ref, "sha256": ref.sha256} if ref else None,
        eval_set=dataset.info(),
        protocol=protocol.for_kind(dataset.kind),
        accuracy=scores,
        agreement=agreement,
        latency=speed["latency"],
        throughput=throughput,
        memory=memory,
        environment=describe_environment(device=loaded.device),
        seconds=seconds,
        extra={"order": order} if order is not None else {},
    ).to_dict()


def evaluate_many(
    *,
    models: Sequence[LoadedModel],
    eval_set: EvalSet | str,
    baseline: LoadedModel | None = None,
    protocol: Protocol | None = None,
    measure_speed: bool = True,
    progress: bool = True,
    looks: range | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    """Evaluate several loaded models on one set, sharing one baseline pass per window batch for agreement.

    The records equal what :func:`evaluate` gives each model alone (same accuracy and agreement);
    ``seconds.scoring`` is each model's own forward passes and ``seconds.reference`` the shared
    baseline pass. A member that *is* ``baseline`` is scored from that pass, without agreement
    (as ``evaluate(model=baseline)``).

    Args:
        models: loaded models (same tokenizer as the baseline on text sets).
        eval_set: a loaded set, a bundled name, or a ``.jsonl``/``.txt`` path.
        baseline: the full-precision reference for agreement (top-1, KL) on text sets.
        protocol: scoring settings; defaults to :class:`Protocol()`.
        measure_speed: also measure each model's latency and throughput.
        progress: show progress bars.
        looks: score only these segments of the seeded order (partial records); the whole set when None.
        first: score only the first this many units of those segments (see :func:`evaluate`).
    """
    if not models:
        raise KitError("evaluate_many needs at least one model")
    protocol = protocol or Protocol()
    dataset = eval_set if isinstance(eval_set, EvalSet) else load_set(eval_set)
    if dataset.kind != "text":  # no agreement on these kinds, so nothing to share
        return [evaluate(model=m, eval_set=dataset, baseline=None if m is baseline else baseline, protocol=protocol,
                         measure_speed=measure_speed, progress=progress, looks=looks, first=first) for m in models]
    started = time.perf_counter()
    windows, ids = _units(dataset, models[0].tokenizer, protocol)
    segs = _segments(dataset, windows, protocol)
    chosen = range(len(segs)) if looks is None else looks
    for m in [*models, *([baseline] if baseline is not None else [])]:
        _check_context(m, protocol)
        if m.tokenizer is not models[0].tokenizer and tokens_for(dataset, m.tokenizer,
                                                                  max_tokens=protocol.max_tokens) != ids:
            raise KitError("model and baseline tokenise the set differently; agreement needs the same tokenizer")
    lead = models[0]
    parts, secs = [], {"models": [0.0] * len(models), "reference": 0.0}
    with peak_memory(lead.device) as memory:
        for picked in chosen_units(segs, chosen, first=first):
            part, s = score_perplexity_many([m.model for m in models], ids, context_length=protocol.context_length,
                                            stride=protocol.stride or protocol.context_length,
                                            batch_size=protocol.batch_size, pad_id=lead.tokenizer.pad_token_id,
                                            reference=baseline.model if baseline is not None else None,
                                            progress=progress, windows=[windows[k] for k in picked])
            parts.append(part)
            secs = {"models": [a + b for a, b in zip(secs["models"], s["models"])],
                    "reference": secs["reference"] + s["reference"]}
    scores = [merge_scores("text", [p[j] for p in parts]) for j in range(len(models))]
    order = order_info(seed=protocol.order_seed, segs=segs, scored=chosen, first=first)
    shared = time.perf_counter() - started
    records = []
    for m, score, own in zip(models, scores, secs["models"]):
        t0 = time.perf_counter()
        is_base = m is baseline
        if is_base:
            score.pop("agreement", None)
            own += secs["reference"]
        with peak_memory(m.device) as lat_memory:
            speed = _speed(m, dataset, protocol, measure_speed)
        mem = {k: max(memory.get(k, 0), lat_memory.get(k, 0)) if isinstance(memory.get(k), int) else memory[k]
               for k in memory}
        records.append(_record(loaded=m, ref=None if is_base else baseline, dataset=dataset, protocol=protocol,
                               scores=score, speed=speed, memory=mem, order=order,
                               seconds={"scoring": round(own, 3), "reference": round(secs["reference"], 3),
                                        "total": round(shared + time.perf_counter() - t0, 3)}))
    return records
