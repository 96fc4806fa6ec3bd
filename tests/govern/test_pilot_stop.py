"""A fail on the look's first set stops the candidate at once: the look's later sets get a one-batch stub only."""

import pytest
from helpers import scratch_baselines

from kit.eval.harness import BATCH_FACTOR, Protocol
from kit.govern.pilot import run_pilot

POLICY = """\
version: 1
use_cases:
  strict:
    description: a KL limit no RTN model can meet, so the first set fails at look 1
    default_method: rtn
    eval_sets: [stdlib-docs, everyday-mc, short-answers]
    metrics:
      kl_mean: {eval_set: stdlib-docs, direction: lower, limit: {kind: absolute, value: 0.000000001}, min_samples: 20}
      accuracy: {eval_set: everyday-mc, direction: higher, limit: {kind: absolute, value: 0.5}, min_samples: 20}
      contains_match: {eval_set: short-answers, direction: higher, limit: {kind: absolute, value: 0.5}, min_samples: 20}
"""
QUICK = Protocol(context_length=64, max_tokens=2049, limit=200, max_new_tokens=4)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A random 2-layer Llama as baseline ``tiny-llama`` in a scratch store, with the strict policy."""
    return scratch_baselines(tmp_path, monkeypatch, policy=POLICY, baselines={"tiny-llama": "llama"})


def test_a_fail_on_the_first_set_spares_the_rest_of_the_look(tiny, capsys):
    result = run_pilot(model="tiny-llama", use_case="strict", protocol=QUICK, register=False, device="cpu",
                       measure_speed=False, out_dir=tiny / "runs", cache=False, engine="reference")
    printed = capsys.readouterr().out
    cand = result["candidates"][0]
    ev = cand["evaluation"]
    assert ev["stopped"] == ("fail: kl_mean at look 1 "
                             "(stopped before everyday-mc, short-answers: one batch each)"), printed
    one_batch = {k: QUICK.batch_size * BATCH_FACTOR[k] for k in ("multiple_choice", "generation")}
    assert ev["sets"]["everyday-mc"] == {"scored": one_batch["multiple_choice"], "total": 200, "unit": "items",
                                         "fraction": round(one_batch["multiple_choice"] / 200, 3)}
    assert ev["sets"]["short-answers"]["scored"] == one_batch["generation"]
    assert ev["sets"]["stdlib-docs"]["fraction"] < 1  # stopped at look 1 of the text set too
    lines = {m["metric"]: m for m in cand["verdict"]["metrics"]}
    assert lines["kl_mean"]["status"] == "fail"
    assert {lines[m]["status"] for m in ("accuracy", "contains_match")} == {"insufficient-samples"}
    assert not cand["verdict"]["passed"]
    # the baseline was scored alongside only as far as the stubs needed it
    base = {r["eval_set"]["name"]: r["order"]["scored"] for r in result["baseline"]["records"]}
    assert base["everyday-mc"] == one_batch["multiple_choice"] and base["short-answers"] == one_batch["generation"]
    assert "[look] 1:" in printed and "stopped: rtn (fail: kl_mean at look 1" in printed
