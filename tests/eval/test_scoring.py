import math

import pytest
import torch

from kit.eval.scoring import make_windows, score_generation, score_multiple_choice, score_perplexity

TEXT = ("The json module encodes and decodes JSON documents. It offers dump and load for files, "
        "and dumps and loads for strings. Keys in JSON objects are always strings. ") * 6


def test_windows_score_every_token_but_the_first_once():
    for n, ctx, stride in [(10, 4, 4), (10, 4, 2), (513, 512, 512), (1000, 128, 96), (3, 8, 8)]:
        scored = []
        for b, e, first in make_windows(n, context_length=ctx, stride=stride):
            assert e - b <= ctx and b < first <= e
            scored += range(first, e)
        assert scored == list(range(1, n))


def test_windows_reject_bad_stride():
    with pytest.raises(ValueError, match="stride"):
        make_windows(10, context_length=4, stride=5)
    with pytest.raises(ValueError, match="context_length"):
        make_windows(10, context_length=1, stride=1)


def test_windows_give_each_scored_token_enough_context():
    for b, _end, first in make_windows(1000, context_length=128, stride=32):
        assert first - b >= 128 - 32 or b == 0


@torch.inference_mode()
def _direct_nll(model, ids, windows):
    total, n = 0.0, 0
    for b, e, first in windows:
        x = torch.tensor([ids[b:e]])
        logp = torch.log_softmax(model(input_ids=x).logits[0, :-1].float(), -1)
        for pos in range(first, e):  # token at pos predicted from position pos-1
            total -= float(logp[pos - b - 1, ids[pos]])
            n += 1
    return total, n


def test_single_window_perplexity_equals_the_model_loss(smol):
    ids = smol.tokenizer(TEXT, add_special_tokens=False).input_ids[:200]
    out = score_perplexity(smol.model, ids, context_length=512, stride=512, batch_size=2,
                           pad_id=smol.tokenizer.pad_token_id, progress=False)
    with torch.inference_mode():
        loss = smol.model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss
    assert out["tokens_scored"] == len(ids) - 1 and out["windows"] == 1
    assert out["perplexity"] == pytest.approx(math.exp(float(loss)), rel=1e-4)


def test_strided_batched_perplexity_matches_a_direct_loop(smol):
    ids = smol.tokenizer(TEXT, add_special_tokens=False).input_ids[:300]
    windows = make_windows(len(ids), context_length=128, stride=80)
    out = score_perplexity(smol.model, ids, context_length=128, stride=80, batch_size=3,
                           pad_id=smol.tokenizer.pad_token_id, progress=False)
    total, n = _direct_nll(smol.model, ids, windows)
    assert out["tokens_scored"] == n == len(ids) - 1
    assert out["nll_per_token"] == pytest.approx(total / n, rel=1e-4)
    per = out["per_window"]  # what the gate's bootstrap resamples: one NLL sum and token count per window
    assert len(per["nll"]) == len(per["tokens"]) == out["windows"] == len(windows)
    assert sum(per["tokens"]) == n and sum(per["nll"]) == pytest.approx(total, rel=1e-4)
    assert len(windows) >= 2
    for k in sorted({0, len(windows) // 2, len(windows) - 1}):  # first, middle and the short last window
        assert per["nll"][k] == pytest.approx(_direct_nll(smol.model, ids, [windows[k]])[0], rel=1e-4)


def test_agreement_of_a_model_with_an_identical_copy_is_exact(smol):
    from kit.models import load_model

    twin = load_model("smollm2-135m", device="cpu")  # a separate object: the comparison really runs
    ids = smol.tokenizer(TEXT, add_special_tokens=False).input_ids[:150]
    out = score_perplexity(smol.model, ids, context_length=64, stride=64, batch_size=2,
                           pad_id=smol.tokenizer.pad_token_id, reference=twin.model, progress=False)
    assert out["agreement"]["top1"] == 1.0
    assert out["agreement"]["kl_mean"] == pytest.approx(0.0, abs=1e-7)


def test_agreement_detects_a_perturbed_model(smol):
    from kit.models import load_model

    other = load_model("smollm2-135m", device="cpu")
    with torch.no_grad():
        for p in other.model.model.layers[0].parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ids = smol.tokenizer(TEXT, add_special_tokens=False).input_ids[:150]
    out = score_perplexity(other.model, ids, context_length=64, stride=64, batch_size=2,
                           pad_id=smol.tokenizer.pad_token_id, reference=smol.model, progress=False)
    assert out["agreement"]["kl_mean"] > 1e-4 and out["agreement"]["top1"] < 1.0
    per, n = out["agreement"]["per_window"], out["tokens_scored"]
    assert len(per["top1"]) == len(per["kl"]) == out["windows"]
    assert sum(per["top1"]) / n == pytest.approx(out["agreement"]["top1"])
    assert sum(per["kl"]) / n == pytest.approx(out["agreement"]["kl_mean"], rel=1e-4)


ITEMS = [
    {"id": "a", "prompt": "The capital of France is", "choices": ["Paris", "banana", "seven", "blue"], "answer": 0},
    {"id": "b", "prompt": "Monday, Tuesday,", "choices": ["carrot", "Wednesday", "ocean", "eleven"], "answer": 1},
    {"id": "c", "prompt": "One, two, three,", "choices": ["purple", "dog", "four", "table"], "answer": 2},
    {"id": "d", "prompt": "The opposite of hot is", "choices": ["tall", "green", "loud", "cold"], "answer": 3},
]


@torch.inference_mode()
def _direct_choice_loglik(smol, prompt, choice):
    tok = smol.tokenizer
    ctx = tok(prompt, add_special_tokens=False).input_ids
    cont = tok(" " + choice, add_special_tokens=False).input_ids
    logp = torch.log_softmax(smol.model(input_ids=torch.tensor([ctx + cont])).logits[0].float(), -1)
    return sum(float(logp[len(ctx) + i - 1, t]) for i, t in enumerate(cont))


def test_multiple_choice_batching_matches_direct_scoring(smol):
    out = score_multiple_choice(smol.model, smol.tokenizer, ITEMS, batch_size=5, progress=False)
    assert out["items"] == 4 and out["ids"] == ["a", "b", "c", "d"]
    assert len(out["correct"]) == len(out["correct_sum"]) == 4
    for item, got in zip(ITEMS, out["correct_sum"]):
        ll = [_direct_choice_loglik(smol, item["prompt"], c) for c in item["choices"]]
        assert got == int(max(range(4), key=ll.__getitem__) == item["answer"])
    assert out["accuracy_sum"] >= 0.75  # these are easy for the real model


def test_generation_scores_exact_and_contains(smol):
    items = [{"id": "g1", "prompt": "Q: What is the capital of France?\nA:", "reference": "Paris"},
             {"id": "g2", "prompt": "Q: What is the capital of France?\nA:", "reference": "zzzz"}]
    out = score_generation(smol.model, smol.tokenizer, items, max_new_tokens=8, batch_size=2,
                           chat_template=True, progress=False)
    assert out["correct"] == [1, 0] and out["answers"][0] == out["answers"][1]
    assert out["exact"][1] == 0 and 0 <= out["exact_match"] <= out["contains_match"]


def test_blocked_token_scores_equal_whole_batch_log_softmax():
    from kit.eval.scoring import CHUNK_ROWS, _token_scores
    g = torch.Generator().manual_seed(0)
    logits, ref = torch.randn(3, 2 * CHUNK_ROWS + 7, 50, generator=g), torch.randn(3, 2 * CHUNK_ROWS + 7, 50, generator=g)
    select = torch.rand(3, logits.shape[1] - 1, generator=g) > 0.3  # irregular, crosses block boundaries
    select[1] = False  # a row with nothing scored
    targets = torch.randint(0, 50, (int(select.sum()),), generator=g)
    got = _token_scores(logits, select, targets, ref)
    lp, rp = torch.log_softmax(logits[:, :-1][select], -1), torch.log_softmax(ref[:, :-1][select], -1)
    assert torch.allclose(got["nll"], -lp.gather(1, targets[:, None]).squeeze(1), atol=1e-6)
    assert torch.equal(got["agree"], (rp.argmax(-1) == lp.argmax(-1)).long())
    assert torch.allclose(got["kl"], (rp.exp() * (rp - lp)).sum(-1), atol=1e-6)
    assert set(_token_scores(logits, select, targets)) == {"nll"}
