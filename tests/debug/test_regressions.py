"""Each planted regression: the instruments rank the planted cause first, and the documented fix passes the gate.

Real model (smollm2-135m), CPU, small sizes: the instruments compare 128 tokens; the gate is a
rehearsal (``<use case>/quick-256[-20]``: the policy's limits on the first 256 tokens / 20 items).
The base recipe (RTN 8-bit, group 64) is quantized once for real and cached; faults are applied in memory.
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

    reg = load_regression(name)
    cand = build_candidate(reg, base=planted_bases(recipe(reg)), baseline=smol)
    diag = diagnose(baseline=smol, candidate=cand, use_case=reg.use_case, tokens=128, top=2)
    top, truth = diag.top, reg.answer
    assert top is not None, diag.format()
    numeric = {"module", "block"}
    assert top["kind"] == truth["cause"] or {top["kind"], truth["cause"]} <= numeric, diag.format()
    assert any(_same_place(top["target"], t) for t in truth["targets"]), diag.format()

    oracle = rehearsal_gates(reg.use_case, reg.rehearsal_tokens)
    before = oracle(cand)
    assert not before.passed, before.format()
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


def test_the_off_domain_plant_misses_its_limit_by_twice_its_mdc(smol, planted_bases, rehearsal_gates):
    """Calibration is the cause the drill teaches with the least margin: its rehearsal must separate plant and fix.

    The candidate's clearest line lies at least two minimum detectable changes beyond its limit, so a VM
    whose kernels round a little differently cannot turn the plant into a pass.
    """
    from kit.debug.oracle import margins_in_mdc

    reg = load_regression("off-domain-calibration")
    assert reg.rehearsal_tokens, "the plant declares the rehearsal size that separates it"
    cand = build_candidate(reg, base=planted_bases(recipe(reg)), baseline=smol)
    before = rehearsal_gates(reg.use_case, reg.rehearsal_tokens)(cand)
    margins = {k: v for k, v in margins_in_mdc(before).items() if v is not None}
    assert min(margins.values()) <= -2, (margins, before.format())
