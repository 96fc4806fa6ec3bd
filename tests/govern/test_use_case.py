"""A use case's values: a limit reads its metric's definition; the snapshot recorded with verdicts stays as old ones were."""

import json

from kit.eval.record import METRICS
from kit.govern.serving_defaults import ServingDefault
from kit.govern.use_case import MetricLimit, NoisePolicy, UseCasePolicy

LIMIT = MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative", limit=0.1,
                    min_samples=100)


def _policy(**extra):
    return UseCasePolicy(name="chat", description="d", default_method="bnb-int8", eval_sets=("stdlib-docs",),
                         metrics=(LIMIT,), **extra)


def test_a_limit_reads_its_metrics_definition():
    assert LIMIT.spec is METRICS["perplexity"] and LIMIT.spec.direction == LIMIT.direction


def test_the_snapshot_is_json_and_leaves_out_fields_a_policy_does_not_state():
    snap = _policy().to_dict()
    assert json.loads(json.dumps(snap)) == snap
    assert snap["eval_sets"] == ["stdlib-docs"] and snap["metrics"][0]["limit"] == 0.1
    assert snap["noise"] == {"alpha": 0.05, "bootstrap_resamples": 2000, "bootstrap_seed": 0}
    assert "serving_defaults" not in snap and "reviewed_for" not in snap  # as snapshots written before these fields


def test_stated_serving_defaults_and_reviews_are_kept():
    cpu = ServingDefault(target="cpu", method="rtn", engine="packed", reason="measured")
    snap = _policy(serving_defaults=(cpu,), reviewed_for=("team-a",), noise=NoisePolicy(alpha=0.01)).to_dict()
    assert snap["serving_defaults"] == [{"target": "cpu", "method": "rtn", "engine": "packed", "reason": "measured",
                                         "recorded": True}]
    assert snap["reviewed_for"] == ["team-a"] and snap["noise"]["alpha"] == 0.01
