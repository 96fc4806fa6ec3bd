"""kit.debug.oracle.margins_in_mdc: a verdict line's distance to its limit, counted in minimum detectable changes."""

from __future__ import annotations

import pytest

from kit.debug.oracle import CLEAR_MISS_MDC, margins_in_mdc
from kit.govern.gate import MetricResult, Verdict


def _line(metric, *, margin, mdc, status):
    return MetricResult(metric=metric, eval_set="stdlib-docs", status=status, value=0.0, baseline=0.0, delta=0.0,
                        limit=0.25, limit_kind="relative", margin=margin, direction="lower", samples=2047,
                        min_samples=2047, sample_unit="tokens", test=None, note="", mdc=mdc)


def test_a_miss_is_negative_a_clearance_positive_and_no_mdc_is_none():
    verdict = Verdict(use_case="code-completion/quick-2048", passed=False, candidate={}, baseline={},
                      metrics=(_line("perplexity", margin=-0.09, mdc=0.03, status="fail"),
                               _line("top1_agreement", margin=0.05, mdc=0.02, status="pass"),
                               _line("kl_mean", margin=0.01, mdc=None, status="insufficient-samples")),
                      policy={}, stack={}, created_at="2026-12-07T00:00:00Z")
    margins = margins_in_mdc(verdict)
    assert margins["perplexity"] == pytest.approx(-3.0)
    assert margins["top1_agreement"] == pytest.approx(2.5)
    assert margins["kl_mean"] is None


def test_a_clear_miss_is_twice_the_mdc():
    assert CLEAR_MISS_MDC == 2.0  # issue 23's bar for a planted regression's rehearsal
