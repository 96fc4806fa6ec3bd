"""Auto-checks for the exercises: each explains what is wrong, not just "assert failed"."""

from __future__ import annotations

import math
from typing import Any

from kit.teach.asking import complete, predict, question, written

__all__ = ["CheckFailed", "complete", "decision_paragraph", "diagnosis", "failing_metrics", "perplexity_from_record",
           "predict", "question", "recovery", "same_place", "sanctioned_methods", "savings", "standard_error",
           "tolerance", "written"]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message explains why and how to get there."""


def _ok(message: str) -> bool:
    print(f"✓ {message}")
    return True


def _close(answer: Any, expected: float, *, rel: float = 1e-3, what: str, hint: str) -> bool:
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        raise CheckFailed(f"{what} should be a number, got {type(answer).__name__}: {answer!r}. {hint}")
    if not math.isclose(answer, expected, rel_tol=rel, abs_tol=1e-9):
        raise CheckFailed(f"{what}: {answer:.6g} is not it. Method: {hint}")
    return _ok(f"{what} = {answer:.6g}")


def perplexity_from_record(answer: float, *, record: dict[str, Any]) -> bool:
    """Check a perplexity recomputed from the record's mean negative log-likelihood.

    Args:
        answer: the learner's perplexity.
        record: the harness record of a text set.
    """
    return _close(answer, math.exp(record["accuracy"]["nll_per_token"]), what="perplexity",
                  hint="Perplexity is exp(mean negative log-likelihood per token): "
                       "math.exp(record['accuracy']['nll_per_token']).")


def standard_error(answer: float, *, record: dict[str, Any]) -> bool:
    """Check the binomial standard error of an accuracy record.

    Args:
        answer: the learner's standard error.
        record: a multiple-choice or generation record.
    """
    acc = record["accuracy"]
    p = sum(acc["correct"]) / len(acc["correct"])
    return _close(answer, math.sqrt(p * (1 - p) / len(acc["correct"])), what="standard error",
                  hint="Use sqrt(p * (1 - p) / n) with p the accuracy and n the number of items.")


def sanctioned_methods(answer: dict[str, str], *, policies: dict[str, Any]) -> bool:
    """Check a mapping use case → sanctioned default method against the policy file.

    Args:
        answer: the learner's mapping.
        policies: ``kit.govern.policy.load_policies()``.
    """
    expected = {name: p.default_method for name, p in policies.items()}
    missing = sorted(set(expected) - set(answer))
    if missing:
        raise CheckFailed(f"missing use case(s) {missing}; the policy file names {sorted(expected)}")
    wrong = {k: (answer[k], v) for k, v in expected.items() if answer[k] != v}
    if wrong:
        k, (got, want) = next(iter(wrong.items()))
        raise CheckFailed(f"{k}: {got!r} is not what the policy sanctions — read that use case's default_method in "
                          f"policies/tolerances.yaml ({len(wrong)} of {len(expected)} differ)")
    return _ok(f"all {len(expected)} sanctioned defaults match the policy file")


def recovery(answer: float, *, baseline: float, rtn: float, method: float) -> bool:
    """Check the share of RTN's perplexity loss that a calibrated method recovers.

    Args:
        answer: the learner's recovery (a fraction, 0.64 = 64 %).
        baseline: baseline perplexity.
        rtn: round-to-nearest perplexity at the same bits/group size.
        method: the calibrated method's perplexity.
    """
    if rtn <= baseline:
        raise CheckFailed("RTN did not lose perplexity here, so recovery is undefined; evaluate more tokens")
    expected = (rtn - method) / (rtn - baseline)
    if isinstance(answer, (int, float)) and math.isclose(answer, expected * 100, rel_tol=1e-3):
        raise CheckFailed(f"you gave a percentage ({answer:.1f}); give it as a fraction (0.64 for 64 %)")
    return _close(answer, expected, what="recovery",
                  hint="recovery = (RTN − method) / (RTN − baseline): the share of RTN's loss that calibration wins back.")


def tolerance(answer: dict[str, Any], *, name: str = "exercise") -> bool:
    """Check a use-case policy written as a dict by validating it with the kit's own policy loader.

    Args:
        answer: one use case in the policy-file format (description, default_method, eval_sets, metrics).
        name: the use case's name in messages.
    """
    from kit.errors import KitError
    from kit.govern.policy import parse_use_case

    try:
        policy = parse_use_case(name, answer)
    except KitError as exc:
        raise CheckFailed(f"the policy loader rejects it: {exc}") from None
    directions = {m.metric: m.direction for m in policy.metrics}
    if "perplexity" not in directions or not ({"accuracy", "contains_match"} & set(directions)):
        raise CheckFailed("a tolerance should bound perplexity and at least one task metric (accuracy or contains_match)")
    return _ok(f"use case '{name}' is valid: " + ", ".join(f"{m.metric} ≤ {m.limit:g} {m.limit_kind}" for m in policy.metrics))


def failing_metrics(answer: set[str] | list[str], *, verdict: dict[str, Any]) -> bool:
    """Check which metrics blocked a verdict: every line whose status is not ``pass``.

    Args:
        answer: the metric names the learner read off the verdict.
        verdict: ``Verdict.to_dict()``.
    """
    blocking = {m["metric"] for m in verdict["metrics"] if m["status"] != "pass"}
    undecided = {m["metric"] for m in verdict["metrics"] if m["status"] == "inconclusive"}
    got = set(answer)
    if undecided - got:
        raise CheckFailed(f"{sorted(undecided - got)} are inconclusive: the data could not show them within the limit, "
                          f"and only evidence passes, so they block too")
    if got != blocking:
        raise CheckFailed(f"you named {sorted(got)}; look for lines whose status is not 'pass' — 'fail', "
                          f"'inconclusive' or 'insufficient-samples' (there are {len(blocking)})")
    return _ok(f"blocking metrics: {sorted(blocking) or 'none — the verdict passes'}")


def savings(answer: float, *, requests_per_day: float, cost_per_1k_requests: float, cost_ratio: float) -> bool:
    """Check a monthly-savings computation.

    Args:
        answer: the learner's monthly savings.
        requests_per_day: volume.
        cost_per_1k_requests: baseline cost per thousand requests.
        cost_ratio: quantized / baseline cost per request.
    """
    from kit.govern.costs import monthly_savings

    expected = monthly_savings(requests_per_day=requests_per_day, cost_per_1k_requests=cost_per_1k_requests,
                               cost_ratio=cost_ratio)
    return _close(answer, expected, what="monthly savings",
                  hint="savings = requests/day × 30 / 1000 × cost per 1k × (1 − cost ratio).")


def decision_paragraph(answer: str, *, summary: dict[str, Any]) -> bool:
    """Check a decision paragraph for leadership against the rubric (``kit.teach.rubric``): numbers, uncertainty, hardware.

    Args:
        answer: the paragraph.
        summary: the pilot report's ``summary.json`` it was written from.
    """
    from kit.teach.rubric import RUBRIC, grade_decision

    if not isinstance(answer, str) or len(answer.split()) < 30:
        raise CheckFailed("write a paragraph of at least 30 words, as a string: the decision, the evidence and "
                          "its uncertainty, the hardware")
    graded = grade_decision(answer, summary=summary)
    missed = [f"{RUBRIC[k]} — {why}" for k, (ok, why) in graded.items() if not ok]
    if missed:
        raise CheckFailed("the paragraph misses: " + "; ".join(missed))
    return _ok("the paragraph meets the rubric: " + "; ".join(RUBRIC.values()))


def same_place(a: str, b: str) -> bool:
    """Two targets name the same place: equal, or one is the block holding the other.

    Args:
        a: a module, block or other target name.
        b: another.
    """
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def diagnosis(answer: dict[str, Any], *, regression: str) -> bool:
    """Score a pair's diagnosis of a planted regression against its hidden answer; explain what was missed.

    Args:
        answer: ``{"cause": ..., "targets": [...], "fix": {...}}`` — cause one of
            ``kit.debug.regressions.CAUSES``, targets module names (or ``chat_template``, ``group_size``...),
            fix an ignore list (``{"ignore": [...]}``), a scheme (``{"bits": 8, "group_size": 64}``) or
            ``{"tokenizer": "baseline"}``.
        regression: the planted regression's name.
    """
    from kit.debug.regressions import CAUSES, load_regression

    truth = load_regression(regression).answer
    if not isinstance(answer, dict) or answer.get("cause") not in CAUSES:
        raise CheckFailed(f"answer must be a dict with 'cause' one of {', '.join(CAUSES)}, 'targets' and 'fix'; "
                          f"got {answer!r}")
    numeric = {"module", "block"}
    cause_ok = answer["cause"] == truth["cause"] or {answer["cause"], truth["cause"]} <= numeric
    targets = [str(t) for t in answer.get("targets") or []]
    hit = [t for t in targets if any(same_place(t, w) for w in truth["targets"])]
    fix, want = answer.get("fix") or {}, truth["fix"]
    if "ignore" in want:
        kept = [str(x) for x in fix.get("ignore") or []]
        fix_ok = bool(kept) and all(any(same_place(k, w) for k in kept) for w in want["ignore"]) and len(kept) <= 3
    else:
        fix_ok = all(fix.get(k) == v for k, v in want.items())
    problems = []
    if not cause_ok:
        problems.append(f"cause: you said {answer['cause']!r}, it is {truth['cause']!r}")
    if not hit:
        problems.append(f"targets: {targets or 'none'} miss the planted place")
    if not fix_ok:
        problems.append(f"fix: {fix or 'none'} would not be the documented fix")
    if problems:
        raise CheckFailed("; ".join(problems) + f". What you missed: {truth.get('missed', '').strip()} "
                          f"What happened: {truth['explanation'].strip()}")
    return _ok(f"diagnosis of {regression} matches the planted cause ({truth['cause']}: "
               f"{', '.join(truth['targets'])}). {truth['explanation'].strip()}")
