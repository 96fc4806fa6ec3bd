"""Exercise 04's check: every line that is not `pass` blocks a verdict, inconclusive included."""

import pytest

from kit.govern.gate import gate
from kit.govern.policy import MetricLimit, UseCasePolicy
from kit.teach.check import CheckFailed, failing_metrics

Q = "q" * 64


def _verdict(make_record):
    limits = (MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative",
                          limit=0.10, min_samples=1),
              MetricLimit(metric="accuracy", eval_set="everyday-mc", direction="higher", limit_kind="absolute",
                          limit=0.05, min_samples=1))
    policy = UseCasePolicy(name="t", description="", default_method="rtn", eval_sets=("stdlib-docs", "everyday-mc"),
                           metrics=limits)
    base = [make_record(perplexity=10.0), make_record(kind="multiple_choice", correct=[1, 0] * 20)]
    cand = [make_record(sha=Q, perplexity=12.0), make_record(kind="multiple_choice", sha=Q, correct=[1, 0] * 20)]
    return gate(baseline=base, candidate=cand, policy=policy).to_dict()


def test_inconclusive_lines_block(make_record, capsys):
    verdict = _verdict(make_record)
    assert [m["status"] for m in verdict["metrics"]] == ["fail", "inconclusive"]  # 40 unchanged items < 52
    assert failing_metrics({"perplexity", "accuracy"}, verdict=verdict)
    assert "blocking metrics" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=r"\['accuracy'\] are inconclusive.*block too"):
        failing_metrics({"perplexity"}, verdict=verdict)
    with pytest.raises(CheckFailed, match="status is not 'pass'"):
        failing_metrics({"perplexity", "accuracy", "kl_mean"}, verdict=verdict)
