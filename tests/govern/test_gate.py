"""The validation gate: direction, noise, comparability, sample size, verdict format and CLI."""

import json
import random

import pytest

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import STATUSES, Verdict, gate
from kit.govern.policy import MetricLimit, NoisePolicy, UseCasePolicy
from kit.eval.stats import mcnemar_exact, paired_bootstrap_ci

Q = "q" * 64  # a quantized model's weights hash


def _policy(*limits, name="test"):
    sets = tuple(dict.fromkeys(m.eval_set for m in limits))
    return UseCasePolicy(name=name, description="test", default_method="bnb-int8", eval_sets=sets, metrics=limits)


def _limit(metric, value, *, kind="absolute", min_samples=1):
    sets = {"perplexity": "stdlib-docs", "top1_agreement": "stdlib-docs", "kl_mean": "stdlib-docs",
            "accuracy": "everyday-mc", "contains_match": "short-answers"}
    direction = "lower" if metric in ("perplexity", "kl_mean") else "higher"
    return MetricLimit(metric=metric, eval_set=sets[metric], direction=direction, limit_kind=kind, limit=value,
                       min_samples=min_samples)


PPL10 = _limit("perplexity", 0.10, kind="relative")
ACC3 = _limit("accuracy", 0.03)


def _flip(correct, *, lost, gained):
    """Turn ``lost`` right answers wrong and ``gained`` wrong answers right."""
    out = list(correct)
    right = [i for i, c in enumerate(out) if c][:lost]
    wrong = [i for i, c in enumerate(out) if not c][:gained]
    for i in right:
        out[i] = 0
    for i in wrong:
        out[i] = 1
    return out


def test_perplexity_is_lower_is_better(make_record):
    base = make_record(perplexity=10.0)
    better = gate(baseline=base, candidate=make_record(sha=Q, perplexity=9.0), policy=_policy(PPL10))
    edge = gate(baseline=base, candidate=make_record(sha=Q, perplexity=10.99), policy=_policy(PPL10))
    worse = gate(baseline=base, candidate=make_record(sha=Q, perplexity=11.5), policy=_policy(PPL10))
    assert better.passed and better.metrics[0].delta == pytest.approx(-0.10) and better.metrics[0].margin > 0.19
    assert edge.passed and edge.metrics[0].margin == pytest.approx(0.001)
    assert not worse.passed and worse.metrics[0].status == "fail"
    assert worse.metrics[0].delta == pytest.approx(0.15) and worse.metrics[0].margin == pytest.approx(-0.05)


def test_accuracy_is_higher_is_better_and_absolute(make_record):
    base_correct = [1, 0] * 150  # 300 items, 50%
    base = make_record(kind="multiple_choice", correct=base_correct)
    up = make_record(kind="multiple_choice", sha=Q, correct=_flip(base_correct, lost=0, gained=30))
    down = make_record(kind="multiple_choice", sha=Q, correct=_flip(base_correct, lost=30, gained=0))
    v_up, v_down = (gate(baseline=base, candidate=c, policy=_policy(ACC3)) for c in (up, down))
    assert v_up.passed and v_up.metrics[0].delta == pytest.approx(0.10)
    m = v_down.metrics[0]
    assert not v_down.passed and m.status == "fail" and m.delta == pytest.approx(-0.10)
    assert m.margin == pytest.approx(-0.07) and m.test["lost"] == 30 and m.test["p_value"] < 1e-6


def test_agreement_metrics_compare_with_their_ideal(make_record):
    base = make_record()
    policy = _policy(_limit("top1_agreement", 0.10), _limit("kl_mean", 0.05))
    ok = gate(baseline=base, candidate=make_record(sha=Q, top1=0.95, kl=0.02), policy=policy)
    bad = gate(baseline=base, candidate=make_record(sha=Q, top1=0.85, kl=0.08), policy=policy)
    assert ok.passed and [m.baseline for m in ok.metrics] == [1.0, 0.0]
    assert [m.status for m in bad.metrics] == ["fail", "fail"]
    with pytest.raises(KitError, match="evaluate the candidate with its baseline"):
        gate(baseline=base, candidate=make_record(sha=Q), policy=policy)


def test_drop_beyond_limit_but_not_significant_is_within_noise(make_record):
    base_correct = [1, 0] * 20  # 40 items
    cand = _flip(base_correct, lost=3, gained=1)  # net −2 items = −0.05 > 0.03 limit, p = 0.625
    v = gate(baseline=make_record(kind="multiple_choice", correct=base_correct),
             candidate=make_record(kind="multiple_choice", sha=Q, correct=cand), policy=_policy(ACC3))
    m = v.metrics[0]
    assert m.status == "within-noise" and v.passed and m.margin < 0
    assert m.test["p_value"] == pytest.approx(0.625) and "not significant" in m.note
    lo, hi = m.test["bootstrap_ci"]
    assert lo < m.delta < hi and lo < 0 < hi


def test_balanced_per_item_flips_never_fail(make_record):
    base_correct = [1] * 160 + [0] * 71  # 231 items, accuracy 0.693 like everyday-mc
    base = make_record(kind="multiple_choice", correct=base_correct)
    for k in range(0, 40, 3):  # the same record with k answers lost and k gained: noise, no net change
        cand = _flip(base_correct, lost=k, gained=k)
        v = gate(baseline=base, candidate=make_record(kind="multiple_choice", sha=Q, correct=cand), policy=_policy(ACC3))
        assert v.passed and v.metrics[0].status == "pass" and v.metrics[0].delta == 0


def test_symmetric_noise_false_alarms_stay_below_alpha(make_record):
    base_correct = [1] * 160 + [0] * 71
    base = make_record(kind="multiple_choice", correct=base_correct)
    statuses = []
    for seed in range(300):  # flip rates chosen so expected lost == expected gained (pure noise)
        rng = random.Random(seed)
        cand = [1 - c if rng.random() < (0.05 if c else 0.05 * 160 / 71) else c for c in base_correct]
        v = gate(baseline=base, candidate=make_record(kind="multiple_choice", sha=Q, correct=cand), policy=_policy(ACC3))
        statuses.append(v.metrics[0].status)
    assert statuses.count("within-noise") >= 3  # drops beyond the limit that the paired test calls noise
    assert statuses.count("fail") <= 0.05 * len(statuses)  # false alarms need the limit AND p < alpha


def test_insufficient_samples_cannot_pass(make_record):
    policy = _policy(_limit("perplexity", 0.10, kind="relative", min_samples=20000),
                     _limit("accuracy", 0.03, min_samples=200))
    base = [make_record(tokens=2048), make_record(kind="multiple_choice", correct=[1, 0] * 25)]
    cand = [make_record(sha=Q, tokens=2048), make_record(kind="multiple_choice", sha=Q, correct=[1, 0] * 25)]
    v = gate(baseline=base, candidate=cand, policy=policy)
    assert not v.passed and [m.status for m in v.metrics] == ["insufficient-samples"] * 2
    assert "2048 tokens < policy minimum 20000" in v.metrics[0].note


def test_refuses_incomparable_records(make_record):
    policy = _policy(PPL10)
    base = make_record()
    with pytest.raises(KitError, match="different 'stdlib-docs' files"):
        gate(baseline=base, candidate=make_record(sha=Q, set_sha="9" * 64), policy=policy)
    other = {"kind": "text", "context_length": 256, "stride": 256, "max_tokens": None}
    with pytest.raises(KitError, match="protocols differ.*context_length: 512 vs 256"):
        gate(baseline=base, candidate=make_record(sha=Q, protocol=other), policy=policy)
    with pytest.raises(KitError, match="gate against its own baseline"):
        gate(baseline=base, candidate=make_record(sha=Q, baseline_sha="c" * 64), policy=policy)
    with pytest.raises(KitError, match="record.*for eval set 'everyday-mc'"):
        gate(baseline=base, candidate=make_record(sha=Q), policy=_policy(ACC3))
    with pytest.raises(KitError, match="different models"):
        gate(baseline=[base, make_record(sha="d" * 64, kind="multiple_choice")], candidate=make_record(sha=Q),
             policy=policy)
    with pytest.raises(KitError, match="not a kit.eval/1"):
        gate(baseline={"schema": "other"}, candidate=make_record(sha=Q), policy=policy)


def test_verdict_is_json_and_readable(make_record):
    base = [make_record(), make_record(kind="multiple_choice")]
    cand = [make_record(sha=Q, perplexity=12.3, top1=0.9, kl=0.05, method="bnb-int8", bits=8),
            make_record(kind="multiple_choice", sha=Q, method="bnb-int8", bits=8)]
    v = gate(baseline=base, candidate=cand, policy=_policy(PPL10, ACC3))
    data = json.loads(json.dumps(v.to_dict()))
    assert data["decision"] == "pass" and data["schema"] == "kit.verdict/1"
    assert {m["status"] for m in data["metrics"]} <= set(STATUSES)
    assert Verdict.from_dict(data) == v
    text = v.format()
    assert text.splitlines()[0].startswith("gate test: PASS") and "bnb-int8 8-bit" in text
    assert "+5.04%" in text and "≤ +10.00%" in text and "≥ -0.0300" in text


def test_same_record_against_itself_passes(make_record):
    recs = [make_record(), make_record(kind="multiple_choice"), make_record(kind="generation", correct=[1, 1, 0] * 14)]
    v = gate(baseline=recs, candidate=recs, policy=_policy(PPL10, ACC3, _limit("contains_match", 0.0)))
    assert v.passed and all(m.delta == 0 and m.status == "pass" for m in v.metrics)


def test_noise_policy_alpha_is_respected(make_record):
    base_correct = [1, 0] * 100
    cand = _flip(base_correct, lost=12, gained=3)  # p ≈ 0.035
    strict = UseCasePolicy(name="t", description="", default_method="rtn", eval_sets=("everyday-mc",),
                           metrics=(ACC3,), noise=NoisePolicy(alpha=0.01))
    args = dict(baseline=make_record(kind="multiple_choice", correct=base_correct),
                candidate=make_record(kind="multiple_choice", sha=Q, correct=cand))
    assert gate(**args, policy=_policy(ACC3)).metrics[0].status == "fail"
    assert gate(**args, policy=strict).metrics[0].status == "within-noise"


def test_stats_helpers():
    assert mcnemar_exact(lost=0, gained=0) == 1.0
    assert mcnemar_exact(lost=5, gained=0) == pytest.approx(0.0625)
    assert mcnemar_exact(lost=3, gained=1) == pytest.approx(0.625)
    assert paired_bootstrap_ci(baseline=[1] * 10, candidate=[1] * 10, resamples=100, seed=0, confidence=0.9) == (0, 0)
    a = paired_bootstrap_ci(baseline=[1, 0] * 50, candidate=[0, 1] * 50, resamples=500, seed=3, confidence=0.95)
    assert a == paired_bootstrap_ci(baseline=[1, 0] * 50, candidate=[0, 1] * 50, resamples=500, seed=3, confidence=0.95)


def test_cli_gate_exit_codes(tmp_path, make_record, capsys, monkeypatch):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nuse_cases:\n  t:\n    description: test\n    default_method: rtn\n"
                      "    eval_sets: [stdlib-docs]\n    metrics:\n      perplexity: {eval_set: stdlib-docs, "
                      "direction: lower, limit: {kind: relative, value: 0.1}, min_samples: 100}\n")
    monkeypatch.setenv("KIT_POLICIES", str(policy))
    files = {}
    for name, rec in {"b": make_record(), "ok": make_record(sha=Q, perplexity=12.0),
                      "bad": make_record(sha=Q, perplexity=14.0), "other": make_record(sha=Q, set_sha="0" * 64)}.items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(rec))
    out = tmp_path / "verdict.json"
    assert main(["gate", "--baseline", str(files["b"]), "--candidate", str(files["ok"]), "--use-case", "t",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["passed"] is True
    assert main(["gate", "--baseline", str(files["b"]), "--candidate", str(files["bad"]), "--use-case", "t"]) == 1
    assert "gate t: FAIL" in capsys.readouterr().out
    assert main(["gate", "--baseline", str(files["b"]), "--candidate", str(files["other"]), "--use-case", "t"]) == 2
    assert main(["gate", "--baseline", str(tmp_path / "missing.json"), "--candidate", str(files["ok"]),
                 "--use-case", "t"]) == 2
    err = capsys.readouterr().err
    assert "different 'stdlib-docs' files" in err and "cannot read" in err


@pytest.mark.slow
def test_two_real_evaluations_of_the_same_model_pass(smol):
    from kit.eval.harness import Protocol, evaluate

    protocol = Protocol(context_length=128, max_tokens=257, limit=8)
    runs = [[evaluate(model=smol, eval_set=s, baseline=smol if s == "stdlib-docs" else None, protocol=protocol,
                      measure_speed=False, progress=False) for s in ("stdlib-docs", "everyday-mc", "short-answers")]
            for _ in range(2)]
    policy = _policy(_limit("perplexity", 0.0, kind="relative"), _limit("accuracy", 0.0),
                     _limit("contains_match", 0.0), _limit("top1_agreement", 0.0), _limit("kl_mean", 1e-6))
    v = gate(baseline=runs[0], candidate=runs[1], policy=policy)
    assert v.passed, v.format()
    assert [m.delta for m in v.metrics][:3] == [0, 0, 0]
