"""Revalidation's pure parts: the protocol a record reproduces, and what got worse between two verdicts."""

from kit.eval.protocol import Protocol
from kit.govern.revalidate import compare_verdicts, protocol_from_record


def test_a_seeded_record_reproduces_its_protocol():
    p = Protocol(max_tokens=64, latency_repeats=2)
    record = {"protocol": p.for_kind("text"),
              "latency": {"prompt_tokens": p.latency_prompt_tokens, "new_tokens": p.latency_new_tokens,
                          "repeats": 2, "warmup": p.warmup}}
    again = protocol_from_record(record)
    assert again.for_kind("text") == p.for_kind("text")
    assert (again.latency_repeats, again.order_seed, again.looks) == (2, p.order_seed, p.looks)


def test_an_old_record_without_order_or_latency_gets_the_natural_order_and_defaults():
    old = protocol_from_record({"protocol": {"kind": "multiple_choice", "limit": 20}})
    assert (old.order_seed, old.limit, old.latency_repeats) == (None, 20, Protocol().latency_repeats)


def _verdict(passed, *metrics):
    return {"passed": passed, "metrics": [{"metric": m, "eval_set": "s", "value": v, "status": st}
                                          for m, v, st in metrics]}


def test_a_worse_status_and_a_flipped_decision_are_regressions_a_new_metric_only_a_change():
    before = _verdict(True, ("perplexity", 10.0, "pass"), ("kl_mean", 0.1, "fail"))
    after = _verdict(False, ("perplexity", 10.5, "inconclusive"), ("kl_mean", 0.09, "pass"), ("top1_agreement", 0.9, "pass"))
    regressions, changes = compare_verdicts(previous=before, current=after)
    assert regressions[0] == "decision pass → fail"
    assert [r.split(":")[0] for r in regressions[1:]] == ["perplexity"]
    assert len(changes) == 3 and changes[-1].startswith("top1_agreement: new metric, pass")


def test_old_within_noise_counts_as_better_than_inconclusive():
    regressions, _ = compare_verdicts(previous=_verdict(True, ("accuracy", 0.5, "within-noise")),
                                      current=_verdict(True, ("accuracy", 0.5, "inconclusive")))
    assert len(regressions) == 1
