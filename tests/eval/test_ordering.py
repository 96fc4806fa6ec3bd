"""The seeded order: a set scored look by look gives the same record as one full pass (same batches)."""

import pytest

from kit.eval.harness import Protocol, evaluate, evaluate_many
from kit.eval.ordering import extend_record, permutation
from kit.eval.sets import load_set

QUICK = Protocol(context_length=64, max_tokens=400, batch_size=2, limit=8)


@pytest.mark.parametrize("eval_set", ["stdlib-docs", "everyday-mc"])
def test_look_by_look_equals_one_full_pass(smol, eval_set):
    full = evaluate(model=smol, eval_set=eval_set, protocol=QUICK, measure_speed=False, progress=False)
    order = full["order"]
    assert order["scored"] == order["total"] and sorted(order["index"]) == list(range(order["total"]))
    assert order["index"] == permutation(order["total"], seed=0) and full["protocol"]["order"]["seed"] == 0
    looks = len(order["boundaries"])
    assert looks > 1 and all(b % (2 if eval_set == "stdlib-docs" else 1) == 0 for b in order["boundaries"][:-1])
    parts = [evaluate_many(models=[smol], eval_set=eval_set, protocol=QUICK, measure_speed=False, progress=False,
                           looks=range(k, k + 1))[0] for k in range(looks)]
    first = parts[0]
    assert first["order"]["scored"] == order["boundaries"][0] < order["total"]
    merged = first
    for part in parts[1:]:
        merged = extend_record(merged, part)
    assert merged["order"]["index"] == order["index"]
    if eval_set == "stdlib-docs":
        assert merged["accuracy"]["per_window"] == full["accuracy"]["per_window"]
        assert merged["accuracy"]["perplexity"] == pytest.approx(full["accuracy"]["perplexity"], rel=1e-9)
    else:
        assert merged["accuracy"]["correct"] == full["accuracy"]["correct"]
        assert merged["accuracy"]["ids"] == full["accuracy"]["ids"]
        assert merged["accuracy"]["accuracy"] == full["accuracy"]["accuracy"]


def test_no_seed_keeps_the_natural_order_and_old_protocol(smol):
    r = evaluate(model=smol, eval_set="everyday-mc", protocol=Protocol(limit=4, order_seed=None), measure_speed=False,
                 progress=False)
    natural = [str(it.get("id", i)) for i, it in enumerate(load_set("everyday-mc").items[:4])]
    assert "order" not in r and "order" not in r["protocol"] and r["accuracy"]["ids"] == natural
