"""Each planted regression: the instruments rank the planted cause first, the candidate fails its gate by a margin,
and the documented fix passes it.

Real model (smollm2-135m), CPU, small sizes: the instruments compare 128 tokens; the gate is a
rehearsal (``<use case>/quick-256[-20]``: the policy's limits on the first 256 tokens / 20 items, or the
plant's own ``rehearsal: {max_tokens: N}``). Each base recipe is quantized once for real and cached; faults
are applied in memory.
"""

from __future__ import annotations

import pytest

from kit.debug.regressions import build_candidate, list_regressions, load_regression, recipe

pytestmark = pytest.mark.slow

# End to end for every bundled planted regression: cause ranked first, the candidate fails, the fix re-gated.
VERIFIED = tuple(list_regressions())


def _same_place(a, b):
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def test_at_least_five_planted_regressions():
    names = list_regressions()
    assert len(names) >= 5
    causes = {load_regression(n).answer["cause"] for n in names}
    assert {"module", "block", "scheme", "chat_template", "calibration"} <= causes


@pytest.mark.parametrize("name", VERIFIED)
def test_planted_cause_ranks_first_and_documented_fix_passes(name, smol, planted_bases, rehearsal_gates):
    from kit.debug.diagnose import diagnose
    from kit.debug.oracle import CLEAR_MISS_MDC, margins_in_mdc

    reg = load_regression(name)
    cand = build_candidate(reg, base=planted_bases(recipe(reg)), baseline=smol)
    diag = diagnose(baseline=smol, candidate=cand, use_case=reg.use_case, tokens=128, top=2)
    top, truth = diag.top, reg.answer
    assert top is not None, diag.format()
    numeric = {"module", "block"}
    assert top["kind"] == truth["cause"] or {top["kind"], truth["cause"]} <= numeric, diag.format()
    assert any(_same_place(top["target"], t) for t in truth["targets"]), diag.format()

    oracle = rehearsal_gates(reg.use_case, reg.rehearsal_size())
    before = oracle(cand)
    assert not before.passed, before.format()
    # With a margin: the clearest line lies at least two minimum detectable changes beyond its limit, so a VM
    # whose kernels round a little differently cannot turn the plant into a pass (benchmarks/plants.py states all).
    margins = [v for v in margins_in_mdc(before).values() if v is not None]
    assert min(margins) <= -CLEAR_MISS_MDC, before.format()
    del cand
    fix = truth["fix"]
    fixed = build_candidate(reg, base=planted_bases(recipe(reg, fix=fix)), baseline=smol, fix=fix)
    after = oracle(fixed)
    if truth["cause"] == "chat_template":
        # chat-assistant's item metrics cannot *prove* a 3-5 point limit on 20 items (nor on short-answers' 41):
        # with identical answers the bound stays above the limit, so the best verdict is "inconclusive".
        # The fix must remove every failing line and give the baseline's answers back.
        assert after.decision != "fail" and all(m.status != "fail" for m in after.metrics), after.format()
        lines = {m.metric: m for m in after.metrics}
        assert lines["contains_match"].value == pytest.approx(lines["contains_match"].baseline, abs=0.051)
    else:
        assert after.passed, after.format()
