"""Candidates evaluated together share one baseline pass, and their records equal one-at-a-time evaluation."""

import copy

import pytest
import torch

from kit.eval.harness import Protocol, evaluate, evaluate_many
from kit.eval.scoring import score_perplexity, score_perplexity_many

QUICK = Protocol(context_length=64, max_tokens=130, batch_size=2)


@pytest.fixture(scope="module")
def perturbed(smol):
    """Two distinct 'candidates': the baseline with noise added to one layer each."""
    out = []
    for layer, scale in ((0, 0.03), (5, 0.05)):
        twin = copy.copy(smol)
        twin.model = copy.deepcopy(smol.model)
        torch.manual_seed(layer)
        with torch.no_grad():
            for p in twin.model.model.layers[layer].parameters():
                p.add_(torch.randn_like(p) * scale)
        out.append(twin)
    return out


def test_shared_records_equal_one_at_a_time(smol, perturbed):
    alone = [evaluate(model=m, eval_set="stdlib-docs", baseline=smol, protocol=QUICK, measure_speed=False,
                      progress=False) for m in perturbed]
    base_alone = evaluate(model=smol, eval_set="stdlib-docs", protocol=QUICK, measure_speed=False, progress=False)
    together = evaluate_many(models=[*perturbed, smol], eval_set="stdlib-docs", baseline=smol, protocol=QUICK,
                             measure_speed=False, progress=False)
    for one, many in zip([*alone, base_alone], together):
        assert many["accuracy"]["perplexity"] == pytest.approx(one["accuracy"]["perplexity"], rel=1e-6)
        assert many["accuracy"]["per_window"] == one["accuracy"]["per_window"]
        assert many["baseline"] == one["baseline"]
        if one["agreement"] is None:
            assert many["agreement"] is None
            continue
        assert many["agreement"]["top1"] == one["agreement"]["top1"]
        assert many["agreement"]["kl_mean"] == pytest.approx(one["agreement"]["kl_mean"], rel=1e-5, abs=1e-9)
        assert many["seconds"]["reference"] > 0
    assert together[0]["agreement"]["top1"] < 1.0 and together[1]["agreement"]["kl_mean"] > 1e-4  # really differ


def test_the_reference_runs_once_per_window_batch(smol, perturbed):
    calls = []
    models = [m.model for m in perturbed]
    hooks = [m.register_forward_hook(lambda mod, *_: calls.append(mod)) for m in [*models, smol.model]]
    ids = smol.tokenizer("the quick brown fox " * 60, add_special_tokens=False).input_ids[:150]
    try:
        scores, secs = score_perplexity_many(models, ids, context_length=64, stride=64, batch_size=2,
                                             pad_id=smol.tokenizer.pad_token_id, reference=smol.model,
                                             progress=False)
    finally:
        for h in hooks:
            h.remove()  # smol is shared by the whole session
    batches = 2  # 150 tokens, 63-token windows → 3 windows → 2 batches of ≤2
    assert sum(c is smol.model for c in calls) == batches  # once per batch, not once per candidate
    assert all(sum(c is m for c in calls) == batches for m in models)
    single = score_perplexity(models[1], ids, context_length=64, stride=64, batch_size=2,
                              pad_id=smol.tokenizer.pad_token_id, reference=smol.model, progress=False)
    assert scores[1]["agreement"]["per_window"]["top1"] == single["agreement"]["per_window"]["top1"]
    assert len(secs["models"]) == 2 and secs["reference"] > 0
