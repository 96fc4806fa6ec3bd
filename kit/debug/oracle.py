"""The gate as a test: evaluate a candidate the way the gate needs and return its verdict.

On the full sets this is the real validation. With ``max_tokens`` / ``limit`` it is a
*rehearsal*: the policy's limits are kept, its minimum sample sizes are lowered to what was
scored, and the use case is renamed ``<use case>/quick-<N>`` so a rehearsal verdict is never
mistaken for (or registered as) a validation under the real use case. A rehearsal's text
windows are sized so its tokens fill :data:`REHEARSAL_WINDOWS` windows: the gate's window
bounds need a spread between windows, which one 512-token window cannot show.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kit.debug.regressions import REHEARSAL_ITEMS, REHEARSAL_TOKENS  # defined with the plants; named here too
from kit.eval.harness import Protocol, evaluate
from kit.govern.gate import Verdict, gate
from kit.govern.policy import UseCasePolicy, get_policy

__all__ = ["CLEAR_MISS_MDC", "REHEARSAL_ITEMS", "REHEARSAL_TOKENS", "REHEARSAL_WINDOWS", "GateOracle",
           "margins_in_mdc", "quick_policy", "rehearsal_protocol"]

#: Windows a rehearsal's text tokens are cut into (its context length is what makes them that many).
REHEARSAL_WINDOWS = 8
#: A planted regression fails its rehearsal "clearly" when a line lies at least this many minimum detectable
#: changes beyond its limit (:func:`margins_in_mdc` ≤ −this): asserted for every plant, reported by benchmarks/plants.py.
CLEAR_MISS_MDC = 2.0


def rehearsal_protocol(*, max_tokens: int | None, limit: int | None) -> Protocol:
    """The protocol of a gate run: the default on full sets; a rehearsal cuts its tokens into several windows.

    Args:
        max_tokens: text sets: first N tokens (None = full sets, default windows).
        limit: other sets: first N items.
    """
    if max_tokens is None:
        return Protocol(limit=limit)
    context = min(Protocol().context_length, max(16, max_tokens // REHEARSAL_WINDOWS))
    return Protocol(max_tokens=max_tokens, limit=limit, context_length=context)


def quick_policy(policy: UseCasePolicy, *, max_tokens: int | None, limit: int | None) -> UseCasePolicy:
    """The same limits with minimum samples lowered to a quick run's size (renamed ``<name>/quick-<N>``).

    Args:
        policy: the use case's policy.
        max_tokens: tokens scored on text sets (None: full sets, policy unchanged for them).
        limit: items scored on multiple-choice / generation sets (None: full sets).
    """
    if max_tokens is None and limit is None:
        return policy
    metrics = []
    for m in policy.metrics:
        cap = max_tokens - 1 if m.spec.samples == "tokens" and max_tokens else limit if m.spec.samples == "items" else None
        metrics.append(dataclasses.replace(m, min_samples=min(m.min_samples, cap)) if cap else m)
    tag = "-".join(str(x) for x in (max_tokens, limit) if x)
    return dataclasses.replace(policy, name=f"{policy.name}/quick-{tag}", metrics=tuple(metrics),
                               description=f"REHEARSAL on the first {tag} tokens/items: " + policy.description)


def margins_in_mdc(verdict: Verdict) -> dict[str, float | None]:
    """Each line's margin to its limit in minimum detectable changes: −2 is a miss by twice the MDC, +2 a clearance.

    How clearly a rehearsal separates a candidate from its limits: a line whose value sits a fraction of an
    MDC from the limit is at the mercy of the next VM; one twice its MDC beyond it is not (None: no MDC).

    Args:
        verdict: a gate verdict.
    """
    return {m.metric: (m.margin / m.mdc if m.mdc else None) for m in verdict.metrics}


class GateOracle:
    """Evaluate candidates on a use case's sets (baseline scored once) and gate them."""

    def __init__(self, *, baseline: Any, use_case: str, max_tokens: int | None = None, limit: int | None = None,
                 policies: str | None = None, progress: bool = False) -> None:
        """Score the baseline once.

        Args:
            baseline: the loaded baseline (``kit.models.LoadedModel``).
            use_case: the policy's use case.
            max_tokens: text sets: first N tokens (a rehearsal; None = full sets).
            limit: other sets: first N items (a rehearsal; None = full sets).
            policies: the policy file (default: see ``kit.govern.policy.policy_path``).
            progress: progress bars.
        """
        self.baseline = baseline
        self.policy = quick_policy(get_policy(use_case, path=policies), max_tokens=max_tokens, limit=limit)
        self.protocol = rehearsal_protocol(max_tokens=max_tokens, limit=limit)
        self.progress = progress
        self.sets = sorted({m.eval_set for m in self.policy.metrics})
        self.baseline_records = [self._eval(baseline, name, None) for name in self.sets]
        self.calls = 0
        self.last_records: list[dict[str, Any]] = []  # the candidate records of the latest call

    def _eval(self, model: Any, name: str, reference: Any) -> dict[str, Any]:
        return evaluate(model=model, eval_set=name, baseline=reference, protocol=self.protocol,
                        measure_speed=False, progress=self.progress)

    def records(self, candidate: Any) -> list[dict[str, Any]]:
        """The candidate's harness records on the policy's sets (agreement against the baseline).

        Args:
            candidate: the loaded candidate.
        """
        return [self._eval(candidate, name, self.baseline) for name in self.sets]

    def __call__(self, candidate: Any) -> Verdict:
        """Gate one candidate.

        Args:
            candidate: the loaded candidate.
        """
        self.calls += 1
        self.last_records = self.records(candidate)
        return gate(baseline=self.baseline_records, candidate=self.last_records, policy=self.policy)
