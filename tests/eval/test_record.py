"""kit.eval.record: the typed kit.eval/1 record, its metrics, and loading records written before it existed."""

import json
from pathlib import Path

import pytest

from kit.errors import KitError
from kit.eval.record import METRICS, PRIMARY, EvalRecord, as_record
from kit.eval.tables import summarize

DATA = Path(__file__).parent / "data"


def _old_text_record():
    """A record written by `kit eval --json` (perplexity on 64 tokens) before EvalRecord existed."""
    return json.loads((DATA / "record_v1_text.json").read_text())


def test_old_record_loads_and_round_trips_unchanged():
    raw = _old_text_record()
    rec = EvalRecord.from_dict(raw)
    assert rec.kind == "text" and rec.set_name == "stdlib-docs"
    assert rec.to_dict() == raw and list(rec.to_dict()) == list(raw)  # same keys, same order
    m = rec.primary_metric()
    assert (m.metric, m.label, m.value, m.samples) == ("perplexity", "ppl", raw["accuracy"]["perplexity"], 63)


def test_sparser_old_record_loads_and_keeps_unknown_keys():
    raw = _old_text_record()
    for key in ("created_at", "seconds", "latency"):
        del raw[key]
    raw["throughput"] = None
    raw["note"] = "hand-edited"
    rec = EvalRecord.from_dict(raw)
    assert rec.created_at is None and rec.seconds is None and rec.throughput == {}
    out = rec.to_dict()
    assert "created_at" not in out and "seconds" not in out and out["note"] == "hand-edited"
    assert json.loads(json.dumps(out)) == out


@pytest.mark.parametrize(("kind", "metric", "label"), [
    ("text", "perplexity", "ppl"), ("multiple_choice", "accuracy", "acc"), ("generation", "contains_match", "match"),
])
def test_primary_metric_per_kind(make_record, kind, metric, label):
    rec = EvalRecord.from_dict(make_record(kind=kind, correct=[1, 1, 0, 1] if kind != "text" else None))
    m = rec.primary_metric()
    assert (m.metric, m.label) == (metric, label) and PRIMARY[kind] == metric
    if kind != "text":
        assert (m.value, m.samples) == (0.75, 4)
    assert summarize(rec.to_dict())["metric"] == label == summarize(rec)["metric"]


def test_agreement_metrics_and_missing_ones_name_the_fix(make_record):
    rec = as_record(make_record(top1=0.9, kl=0.05, tokens=500))
    assert rec.metric("top1_agreement").value == 0.9 and rec.metric("kl_mean").samples == 500
    with pytest.raises(KitError, match=r"has no kl_mean; evaluate the candidate with its baseline"):
        as_record(make_record()).metric("kl_mean")
    with pytest.raises(KitError, match="unknown metric 'bleu'"):
        rec.metric("bleu")


def test_directions_are_defined_once():
    assert {n: s.direction for n, s in METRICS.items()} == {
        "perplexity": "lower", "accuracy": "higher", "contains_match": "higher",
        "top1_agreement": "higher", "kl_mean": "lower"}
    assert METRICS["perplexity"].degradation(0.5) == 0.5 and METRICS["accuracy"].degradation(0.5) == -0.5
    from kit.govern import policy

    assert policy.METRICS is METRICS


@pytest.mark.parametrize("bad", [{"schema": "other/1"}, [], {"schema": "kit.eval/1", "model": {}}])
def test_not_a_record_is_one_line_error(bad):
    with pytest.raises(KitError, match="kit eval --json") as err:
        EvalRecord.from_dict(bad)
    assert "\n" not in str(err.value)


def test_one_direction_flip_for_values_bounds_and_limits():
    from kit.eval.record import METRICS

    lower, higher = METRICS["perplexity"], METRICS["accuracy"]
    assert (lower.degradation(0.2), higher.degradation(0.2)) == (0.2, -0.2)
    assert lower.degradation_bounds(-0.1, 0.3) == (-0.1, 0.3)
    assert higher.degradation_bounds(-0.1, 0.3) == (-0.3, 0.1)
    assert higher.degradation_bounds(*higher.degradation_bounds(-0.1, 0.3)) == (-0.1, 0.3)  # its own inverse
    assert lower.limit_text(0.05) == ("≤ ", 0.05) and higher.limit_text(0.05) == ("≥ ", -0.05)
