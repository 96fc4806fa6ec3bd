"""Checks for causes no per-module number shows: tokenizer and chat template, calibration domain, scheme, stack drift.

Each check returns a list of findings: ``{"kind", "target", "severity", "score", "text"}``;
severity ``critical`` (the models are not even fed the same inputs), ``warning`` or ``info``.
"""

from __future__ import annotations

import collections
import difflib
from collections.abc import Sequence
from typing import Any

from kit.eval.sets import load_set

__all__ = ["DOMAIN_OFF", "MIN_CALIBRATION_SAMPLES", "calibration_checks", "domain_overlap", "scheme_checks",
           "stack_checks", "tokenizer_checks"]

#: Calibration is "off-domain" when its token overlap with the evaluation sets is below this share of the
#: best bundled calibration set's overlap (measured: stdlib-docs eval — stdlib-docs-calib 0.66, numbers-calib 0.17).
DOMAIN_OFF = 0.5
#: Fewer calibration chunks than this leaves GPTQ's Hessians / AWQ's scales poorly estimated.
MIN_CALIBRATION_SAMPLES = 16
_PROBE = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2 + 2?"}]
_PROBE_TEXT = "def parse(path: str) -> dict:\n    \"\"\"Read a config file.\"\"\"\n    return {}  # naïve café ✓"


def _finding(kind: str, target: str, severity: str, score: float, text: str) -> dict[str, Any]:
    return {"kind": kind, "target": target, "severity": severity, "score": round(float(score), 4), "text": text}


def _render(tok: Any) -> str | None:
    if not getattr(tok, "chat_template", None):
        return None
    return tok.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=True)


def tokenizer_checks(*, baseline: Any, candidate: Any) -> list[dict[str, Any]]:
    """Differences between two tokenizers: vocabulary, special tokens, tokenization of a probe, chat template.

    Args:
        baseline: the baseline's tokenizer.
        candidate: the candidate's tokenizer.
    """
    out = []
    if baseline.get_vocab() != candidate.get_vocab():
        out.append(_finding("tokenizer", "vocabulary", "critical", 1.0,
                            f"vocabularies differ ({len(baseline.get_vocab())} vs {len(candidate.get_vocab())} tokens); "
                            "ship the baseline's tokenizer files with the artifact"))
    for attr in ("bos_token", "eos_token", "pad_token", "unk_token"):
        a, b = getattr(baseline, attr, None), getattr(candidate, attr, None)
        if a != b and not (attr == "pad_token" and a is None):
            out.append(_finding("tokenizer", attr, "critical", 1.0, f"{attr} differs: {a!r} vs {b!r}"))
    if baseline(_PROBE_TEXT).input_ids != candidate(_PROBE_TEXT).input_ids:
        out.append(_finding("tokenizer", "tokenization", "critical", 1.0,
                            "the same text tokenizes differently; copy the baseline's tokenizer files"))
    rb, rc = _render(baseline), _render(candidate)
    if rb != rc:
        diff = [line for line in difflib.unified_diff((rb or "").splitlines(), (rc or "").splitlines(), lineterm="", n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        ratio = difflib.SequenceMatcher(a=rb or "", b=rc or "").ratio()
        out.append(_finding("chat_template", "chat_template", "critical", 1.0 - ratio,
                            "the chat template renders the same conversation differently "
                            f"(similarity {ratio:.2f}); first differences: {' | '.join(diff[:4])}. "
                            "Restore the baseline's chat_template (tokenizer files) in the artifact"))
    return out


def _texts(name: str) -> list[str]:
    s = load_set(name)
    if s.kind == "text":
        return s.texts()
    return [" ".join([i["prompt"], *i.get("choices", []), i.get("reference", "")]) for i in s.items]


def _distribution(texts: Sequence[str], tokenizer: Any) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for t in texts:
        counts.update(tokenizer(t, add_special_tokens=False).input_ids)
    return counts


def domain_overlap(*, calibration: str, eval_sets: Sequence[str], tokenizer: Any) -> float:
    """Token-distribution overlap Σ_t min(p_cal(t), p_eval(t)) in [0, 1] (1 = same unigram distribution).

    Args:
        calibration: calibration set name or path.
        eval_sets: the use case's evaluation sets.
        tokenizer: the baseline tokenizer.
    """
    cal = _distribution(load_set(calibration, folder="calibration").texts(), tokenizer)
    ev = _distribution([t for s in eval_sets for t in _texts(s)], tokenizer)
    nc, ne = sum(cal.values()) or 1, sum(ev.values()) or 1
    return sum(min(c / nc, ev[t] / ne) for t, c in cal.items() if t in ev)


def calibration_checks(*, config: dict[str, Any] | None, eval_sets: Sequence[str], tokenizer: Any,
                       widest_input: int | None = None) -> list[dict[str, Any]]:
    """Calibration off the evaluation domain (measured overlap, with the bundled sets for scale) or too small.

    Args:
        config: the candidate's ``kit-quantization.json`` log.
        eval_sets: the use case's evaluation sets.
        tokenizer: the baseline tokenizer.
        widest_input: the widest quantized layer input (a Hessian needs at least that many tokens to be full rank).
    """
    cal = (config or {}).get("calibration")
    if not cal:
        return []
    from kit.eval.sets import bundled_sets
    from kit.quant.calibration import recorded_source
    from kit.quant.spec import DEFAULT_CALIBRATION

    name = recorded_source(cal)
    score = domain_overlap(calibration=name, eval_sets=eval_sets, tokenizer=tokenizer)
    others = {n: domain_overlap(calibration=n, eval_sets=eval_sets, tokenizer=tokenizer)
              for n in bundled_sets("calibration") if n != cal["name"]}
    best = max(others.items(), key=lambda kv: kv[1]) if others else None
    scale = ", ".join(f"{n} {v:.2f}" for n, v in sorted(others.items(), key=lambda kv: -kv[1]))
    out = []
    if best and score < DOMAIN_OFF * best[1]:
        fix = f"; recalibrate on {best[0]} (overlap {best[1]:.2f})" if best and best[1] > score else ""
        out.append(_finding("calibration", cal["name"], "warning", 1.0 - score,
                            f"calibration '{cal['name']}' overlaps the evaluation domain by {score:.2f} "
                            f"(< {DOMAIN_OFF:g} × the best bundled set; bundled: {scale}){fix}"))
    else:
        out.append(_finding("calibration", cal["name"], "info", 1.0 - score,
                            f"calibration '{cal['name']}' overlaps the evaluation domain by {score:.2f} (bundled: {scale})"))
    samples, seq_len = int(cal.get("samples") or 0), int(cal.get("seq_len") or 0)
    tokens = samples * seq_len
    short = widest_input is not None and tokens < widest_input
    if samples < MIN_CALIBRATION_SAMPLES or short:
        default = DEFAULT_CALIBRATION
        why = [f"fewer than {MIN_CALIBRATION_SAMPLES} chunks"] if samples < MIN_CALIBRATION_SAMPLES else []
        if short:
            why.append(f"{tokens} tokens, fewer than the widest layer input ({widest_input} channels): " + (
                "AutoRound tunes its rounding to those few vectors" if config.get("method") == "autoround" else
                "GPTQ's Hessians are rank-deficient and its corrections fit those few vectors"))
        score = max(1.0 - samples / MIN_CALIBRATION_SAMPLES, 1.0 - tokens / widest_input if short else 0.0)
        out.append(_finding("calibration", "samples", "warning", score,
                            f"only {samples} calibration chunks of {seq_len} tokens ({'; '.join(why)}); "
                            f"use the default {default.samples} × {default.seq_len}"))
    return out


def scheme_checks(*, config: dict[str, Any] | None, weight_levels: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """The logged scheme against what small models tolerate: 4-bit without groups, lm_head/embeddings quantized.

    Args:
        config: the candidate's ``kit-quantization.json`` log.
        weight_levels: module → distinct values per output row measured in the candidate's weights.
    """
    if not config:
        return []
    out = []
    bits, weights = config.get("bits"), (config.get("resolved_weights") or {})
    per_channel = config.get("group_size") is None and weights.get("strategy") in ("channel", None) and bits and bits <= 4
    if per_channel and config.get("library") != "bitsandbytes":
        out.append(_finding("scheme", "group_size", "warning", 1.0,
                            f"{bits}-bit weights with one scale per output channel (no groups): every weight of a row "
                            "shares one range, so small weights round to zero; use grouped scales (--group-size 32/64)"))
    ignore = config.get("ignore")
    if ignore is not None and "lm_head" not in ignore:
        out.append(_finding("scheme", "lm_head", "warning", 0.5,
                            "lm_head is quantized (not in the ignore list); keep it in full precision"))
    return out


def stack_checks(*, candidate_sha: str | None, registry: Any = None) -> list[dict[str, Any]]:
    """Package/hardware changes since the candidate's registry entry last passed.

    Args:
        candidate_sha: the candidate's weights sha256.
        registry: an open :class:`~kit.govern.registry.Registry` (None: check skipped).
    """
    if registry is None or not candidate_sha:
        return []
    from kit.govern.registry import current_stack, stack_changes

    entries = [e for e in registry.find(candidate_sha) if e.model_sha256 == candidate_sha]
    out = []
    for e in entries:
        passed = [v for v in registry.validations(e.id) if v.passed]
        if not passed:
            continue
        changes = stack_changes(recorded=passed[-1].stack, current=current_stack())
        if changes:
            out.append(_finding("stack", e.id, "warning", min(1.0, 0.25 * len(changes)),
                                f"entry {e.id} last passed on another stack: {'; '.join(changes)}; "
                                f"re-run the gate here (`kit revalidate {e.id}`) before blaming the weights"))
    return out
