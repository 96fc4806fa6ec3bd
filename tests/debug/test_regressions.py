"""Each planted regression: the instruments rank the planted cause first, and the documented fix passes the gate.

Real model (smollm2-135m), CPU, small sizes: the instruments compare 128 tokens; the gate is a
rehearsal (``<use case>/quick-256[-20]``: the policy's limits on the first 256 tokens / 20 items).
The base recipe (RTN 8-bit, group 64) is quantized once for real and cached; faults are applied in memory.
"""

from __future__ import annotations

import pytest

from kit.debug.regressions import base_artifact, build_candidate, list_regressions, load_candidate, load_regression, recipe

pytestmark = pytest.mark.slow

GATE_TOKENS, GATE_ITEMS = 256, 20
# End to end for every bundled planted regression: cause ranked first, the candidate fails, the fix re-gated.
VERIFIED = tuple(list_regressions())
# Regressions the rehearsal gate cannot judge on every machine, so only the diagnosis is asserted for them.
# GPTQ on numbers-calib failed code-completion's 256-token rehearsal on one 2-core VM and passed on an AVX2-only
# one (top-1 -0.2196 vs -0.22), where the documented fix scored a *worse* perplexity on those 256 tokens
# (+23.3 % vs +11.6 %) though a better KL: one window cannot rank them; the full-set study can (docs/debugging.md).
NEAR_LIMIT = {"off-domain-calibration"}


@pytest.fixture(scope="module")
def bases():
    cache = {}

    def get(spec):
        key = repr(sorted(spec.items()))
        if key not in cache:
            cache[key] = load_candidate(base_artifact(spec))
        return cache[key]
    return get


@pytest.fixture(scope="module")
def oracles(smol):
    from kit.debug.oracle import GateOracle

    cache = {}

    def get(use_case):
        if use_case not in cache:
            cache[use_case] = GateOracle(baseline=smol, use_case=use_case, max_tokens=GATE_TOKENS, limit=GATE_ITEMS)
        return cache[use_case]
    return get


def _same_place(a, b):
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def test_at_least_five_planted_regressions():
    names = list_regressions()
    assert len(names) >= 5
    causes = {load_regression(n).answer["cause"] for n in names}
    assert {"module", "block", "scheme", "chat_template", "calibration"} <= causes


@pytest.mark.parametrize("name", VERIFIED)
def test_planted_cause_ranks_first_and_documented_fix_passes(name, smol, bases, oracles):
    from kit.debug.diagnose import diagnose

    reg = load_regression(name)
    cand = build_candidate(reg, base=bases(recipe(reg)), baseline=smol)
    diag = diagnose(baseline=smol, candidate=cand, use_case=reg.use_case, tokens=128, top=2)
    top, truth = diag.top, reg.answer
    assert top is not None, diag.format()
    numeric = {"module", "block"}
    assert top["kind"] == truth["cause"] or {top["kind"], truth["cause"]} <= numeric, diag.format()
    assert any(_same_place(top["target"], t) for t in truth["targets"]), diag.format()

    if name in NEAR_LIMIT:
        return  # the diagnosis above is the claim; see NEAR_LIMIT
    oracle = oracles(reg.use_case)
    before = oracle(cand)
    assert not before.passed, before.format()
    del cand
    fix = truth["fix"]
    fixed = build_candidate(reg, base=bases(recipe(reg, fix=fix)), baseline=smol, fix=fix)
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
