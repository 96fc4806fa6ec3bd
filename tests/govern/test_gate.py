"""The validation gate: direction, evidence (pass / fail / inconclusive), comparability, sample size, format, CLI."""

import json
import random

import pytest
from helpers import flip

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import STATUSES, Verdict, gate
from kit.govern.policy import MetricLimit, NoisePolicy, UseCasePolicy

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


def test_perplexity_is_lower_is_better(make_record):
    base = make_record(perplexity=10.0)
    better = gate(baseline=base, candidate=make_record(sha=Q, perplexity=9.0), policy=_policy(PPL10))
    edge = gate(baseline=base, candidate=make_record(sha=Q, perplexity=10.99), policy=_policy(PPL10))
    worse = gate(baseline=base, candidate=make_record(sha=Q, perplexity=11.5), policy=_policy(PPL10))
    assert better.passed and better.metrics[0].delta == pytest.approx(-0.10) and better.metrics[0].margin > 0.19
    assert not worse.passed and worse.metrics[0].status == "fail" and worse.decision == "fail"
    assert worse.metrics[0].delta == pytest.approx(0.15) and worse.metrics[0].margin == pytest.approx(-0.05)
    assert worse.metrics[0].interval[0] > 0.10  # even the lower bound of the rise is beyond +10 %
    m = edge.metrics[0]  # +9.9 % against +10 %: inside, but the window spread cannot show it
    assert m.status == "inconclusive" and not edge.passed and edge.decision == "inconclusive"
    assert m.interval[0] < 0.10 < m.interval[1] and m.needed > 24558 and f"about {m.needed} tokens" in m.note


def test_accuracy_is_higher_is_better_and_absolute(make_record):
    base_correct = [1, 0] * 150  # 300 items, 50%
    base = make_record(kind="multiple_choice", correct=base_correct)
    up = make_record(kind="multiple_choice", sha=Q, correct=flip(base_correct, lost=0, gained=30))
    down = make_record(kind="multiple_choice", sha=Q, correct=flip(base_correct, lost=30, gained=0))
    v_up, v_down = (gate(baseline=base, candidate=c, policy=_policy(ACC3)) for c in (up, down))
    assert v_up.passed and v_up.metrics[0].delta == pytest.approx(0.10)
    m = v_down.metrics[0]
    assert not v_down.passed and m.status == "fail" and m.delta == pytest.approx(-0.10)
    assert m.margin == pytest.approx(-0.07) and m.test["lost"] == 30 and m.test["p_value_any_change"] < 1e-6
    assert m.interval[1] < -0.03 and "beyond the limit" in m.note  # upper bound of the change below −3 points


def test_agreement_metrics_compare_with_their_ideal(make_record):
    base = make_record()
    policy = _policy(_limit("top1_agreement", 0.10), _limit("kl_mean", 0.05))
    ok = gate(baseline=base, candidate=make_record(sha=Q, top1=0.95, kl=0.02), policy=policy)
    bad = gate(baseline=base, candidate=make_record(sha=Q, top1=0.85, kl=0.08), policy=policy)
    assert ok.passed and [m.baseline for m in ok.metrics] == [1.0, 0.0]
    assert [m.status for m in bad.metrics] == ["fail", "fail"]
    with pytest.raises(KitError, match="evaluate the candidate with its baseline"):
        gate(baseline=base, candidate=make_record(sha=Q), policy=policy)


def _paired(n, lost, gained, limit=ACC3, **kw):
    from tests.conftest import synthetic_record as make_rec

    base_correct = [1] * (n // 2) + [0] * (n - n // 2)
    cand = flip(base_correct, lost=lost, gained=gained)
    policy = kw.pop("policy", None) or _policy(limit)
    v = gate(baseline=make_rec(kind="multiple_choice", correct=base_correct),
             candidate=make_rec(kind="multiple_choice", sha=Q, correct=cand), policy=policy)
    return v, v.metrics[0]


def test_readme_case_does_not_pass():
    """The old pilot: 5 of 41 short answers lost, none gained, against a 5-point limit (McNemar p = 0.06)."""
    v, m = _paired(41, 5, 0, limit=_limit("accuracy", 0.05))
    assert not v.passed and m.status == "fail"  # the lower bound of the drop (≈ 5.25 points) is beyond 5 points
    assert m.delta < m.interval[1] < -0.05 and "lost 5, gained 0 of 41" in m.note


def test_clear_pass_needs_a_bound_within_the_limit():
    v, m = _paired(430, 3, 2, limit=_limit("accuracy", 0.05))
    assert v.passed and m.status == "pass" and m.interval[0] > -0.05 and "within the limit" in m.note
    assert m.needed is None and 0 < m.mdc < 0.02


def test_an_unchanged_model_on_a_small_set_is_inconclusive():
    """41 items cannot show even a model that changes no answer within 5 points: ≥ 52 are needed."""
    v, m = _paired(41, 0, 0, limit=_limit("accuracy", 0.05))
    assert m.status == "inconclusive" and not v.passed and v.decision == "inconclusive"
    assert m.delta == 0 and m.needed == 52 and "about 52 items would decide it" in m.note
    assert _paired(52, 0, 0, limit=_limit("accuracy", 0.05))[1].status == "pass"


def test_inconclusive_says_how_many_items_decide_it():
    v, m = _paired(40, 3, 1)  # net −2 items = −5 points against −3: McNemar p = 0.625
    assert m.status == "inconclusive" and m.interval[0] < -0.03 < m.interval[1]
    assert m.needed == 631 and "about 631 items would decide it at this discordance" in m.note
    scaled = _paired(m.needed, 3 * m.needed // 40, m.needed // 40)[1]  # the same rates on that many items
    assert scaled.status == "fail"
    _, m = _paired(300, 12, 3, limit=_limit("accuracy", 0.05))  # −3 points against −5: not yet shown
    assert m.status == "inconclusive" and m.needed == 423
    at = {n: _paired(n, n // 25, n // 100, limit=_limit("accuracy", 0.05))[1].status for n in (400, 500)}
    assert at == {400: "inconclusive", 500: "pass"}  # same rates (4 % lost, 1 % gained) below and above 423


def test_balanced_per_item_flips_never_fail(make_record):
    base_correct = [1] * 160 + [0] * 71  # 231 items, accuracy 0.693 like everyday-mc
    base = make_record(kind="multiple_choice", correct=base_correct)
    for k in range(0, 40, 3):  # the same record with k answers lost and k gained: no net change
        cand = flip(base_correct, lost=k, gained=k)
        v = gate(baseline=base, candidate=make_record(kind="multiple_choice", sha=Q, correct=cand), policy=_policy(ACC3))
        m = v.metrics[0]
        assert m.delta == 0 and m.status == ("pass" if k <= 6 else "inconclusive")  # more churn, wider bounds
        assert (m.needed or 0) > (231 if k > 6 else -1)


def test_symmetric_noise_false_alarms_stay_below_alpha(make_record):
    base_correct = [1] * 160 + [0] * 71
    base = make_record(kind="multiple_choice", correct=base_correct)
    statuses = []
    for seed in range(300):  # flip rates chosen so expected lost == expected gained (pure noise)
        rng = random.Random(seed)
        cand = [1 - c if rng.random() < (0.05 if c else 0.05 * 160 / 71) else c for c in base_correct]
        v = gate(baseline=base, candidate=make_record(kind="multiple_choice", sha=Q, correct=cand), policy=_policy(ACC3))
        statuses.append(v.metrics[0].status)
    assert statuses.count("fail") <= 0.05 * len(statuses)  # a fail needs the lower bound beyond the limit


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
    recs = [make_record(), make_record(kind="multiple_choice"), make_record(kind="generation", correct=[1, 1, 0] * 100)]
    v = gate(baseline=recs, candidate=recs, policy=_policy(PPL10, ACC3, _limit("contains_match", 0.05)))
    assert v.passed and all(m.delta == 0 and m.status == "pass" for m in v.metrics)
    assert v.metrics[0].interval == [0.0, 0.0]  # identical windows: the bootstrap has nothing to vary


def test_every_line_reports_bounds_and_minimum_detectable_change(make_record):
    base = [make_record(), make_record(kind="multiple_choice", correct=[1, 0] * 150)]
    cand = [make_record(sha=Q, perplexity=12.0, top1=0.93, kl=0.02),
            make_record(kind="multiple_choice", sha=Q, correct=flip([1, 0] * 150, lost=6, gained=4))]
    policy = _policy(PPL10, _limit("top1_agreement", 0.12), _limit("kl_mean", 0.05), ACC3)
    v = gate(baseline=base, candidate=cand, policy=policy)
    for m in v.metrics:
        lo, hi = m.interval
        assert lo <= m.delta <= hi and m.mdc == pytest.approx((hi - lo) / 2) and m.mdc > 0, m
    assert "bounds" in v.format() and "mdc" in v.format()


def test_bootstrap_intervals_are_seeded(make_record):
    base, cand = make_record(perplexity=10.0), make_record(sha=Q, perplexity=10.6, top1=0.9, kl=0.04)
    policy = _policy(PPL10, _limit("top1_agreement", 0.12), _limit("kl_mean", 0.05))
    runs = [gate(baseline=base, candidate=cand, policy=policy) for _ in range(2)]
    assert [m.interval for m in runs[0].metrics] == [m.interval for m in runs[1].metrics]
    other = UseCasePolicy(name="t", description="", default_method="rtn", eval_sets=policy.eval_sets,
                          metrics=policy.metrics, noise=NoisePolicy(bootstrap_seed=7))
    moved = gate(baseline=base, candidate=cand, policy=other)
    assert [m.interval for m in moved.metrics] != [m.interval for m in runs[0].metrics]
    assert all(m.test["seed"] == 7 and m.test["resamples"] == 2000 for m in moved.metrics)


def test_old_records_without_windows_are_inconclusive(make_record):
    base, cand = make_record(per_window=False), make_record(sha=Q, perplexity=11.8, per_window=False)
    v = gate(baseline=base, candidate=cand, policy=_policy(PPL10))
    m = v.metrics[0]
    assert m.status == "inconclusive" and m.interval is None and m.mdc is None and not v.passed
    assert "lacks per-window data" in m.note and "re-evaluate" in m.note
    old_verdict = v.to_dict()
    for line in old_verdict["metrics"]:  # a verdict stored before bounds existed still loads
        for key in ("interval", "mdc", "needed"):
            line.pop(key)
        line["status"] = "within-noise"
    assert Verdict.from_dict(old_verdict).metrics[0].interval is None


def test_noise_policy_alpha_is_respected(make_record):
    base_correct = [1, 0] * 150
    cand = flip(base_correct, lost=5, gained=3)  # Z(3 points) ≈ −1.98: beyond z(0.05) = 1.64, not z(0.01) = 2.33
    strict = UseCasePolicy(name="t", description="", default_method="rtn", eval_sets=("everyday-mc",),
                           metrics=(ACC3,), noise=NoisePolicy(alpha=0.01))
    args = dict(baseline=make_record(kind="multiple_choice", correct=base_correct),
                candidate=make_record(kind="multiple_choice", sha=Q, correct=cand))
    assert gate(**args, policy=_policy(ACC3)).metrics[0].status == "pass"
    assert gate(**args, policy=strict).metrics[0].status == "inconclusive"


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
    files["edge"] = tmp_path / "edge.json"
    files["edge"].write_text(json.dumps(make_record(sha=Q, perplexity=11.71 * 1.099)))
    assert main(["gate", "--baseline", str(files["b"]), "--candidate", str(files["edge"]), "--use-case", "t"]) == 1
    assert "gate t: INCONCLUSIVE" in capsys.readouterr().out  # blocks like a failure: exit 1
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
    # zero limits on the token metrics (identical windows give a zero-width interval); 8 unchanged items
    # resolve a 50-point limit (≥ 3 items needed), never a zero one
    policy = _policy(_limit("perplexity", 0.0, kind="relative"), _limit("accuracy", 0.5),
                     _limit("contains_match", 0.5), _limit("top1_agreement", 0.0), _limit("kl_mean", 1e-6))
    v = gate(baseline=runs[0], candidate=runs[1], policy=policy)
    assert v.passed, v.format()
    assert [m.delta for m in v.metrics][:3] == [0, 0, 0]
    assert len(runs[1][0]["accuracy"]["per_window"]["nll"]) == runs[1][0]["accuracy"]["windows"]


PACKED = {"name": "packed", "backend": "torch", "activations": "bfloat16"}


def _on(record, engine):
    record["model"]["engine"] = engine
    return record


def test_the_verdict_names_both_engines_and_refuses_other_cross_engine_pairs(make_record, tmp_path, capsys):
    base, cand = make_record(perplexity=10.0), _on(make_record(sha=Q, perplexity=10.2), PACKED)
    v = gate(baseline=base, candidate=cand, policy=_policy(PPL10))  # the sanctioned pair: packed vs reference
    assert v.candidate["engine"] == PACKED and v.baseline["engine"]["name"] == "reference" and not v.cross_engine
    assert "on packed (torch, bfloat16) vs baseline smollm2-135m on reference" in v.format()
    assert v.stack["engine"] == PACKED
    packed_base = _on(make_record(perplexity=10.0), PACKED)
    for c in (cand, make_record(sha=Q, perplexity=10.2)):  # baseline on packed: refused against either engine
        with pytest.raises(KitError, match="baseline was measured on the packed .*allow_cross_engine=True"):
            gate(baseline=packed_base, candidate=c, policy=_policy(PPL10))
    allowed = gate(baseline=packed_base, candidate=cand, policy=_policy(PPL10), allow_cross_engine=True)
    assert allowed.cross_engine and "cross-engine comparison, allowed on request" in allowed.format()
    mixed = [cand, _on(make_record(kind="multiple_choice", sha=Q), {"name": "reference"})]
    with pytest.raises(KitError, match="candidate records come from 2 engines"):
        gate(baseline=[base, make_record(kind="multiple_choice")], candidate=mixed, policy=_policy(PPL10))
    old = v.to_dict()  # a verdict written before engines: no engine fields, no cross_engine
    old.pop("cross_engine")
    old["candidate"].pop("engine")
    old["baseline"].pop("engine")
    again = Verdict.from_dict(old)
    assert not again.cross_engine and "on reference vs baseline smollm2-135m on reference" in again.format()
    paths = {}
    for name, rec in (("b", packed_base), ("c", cand)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(rec))
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("version: 1\nuse_cases:\n  t:\n    description: t\n    default_method: gptq\n"
                           "    eval_sets: [stdlib-docs]\n    metrics:\n      perplexity:\n        eval_set: stdlib-docs\n"
                           "        direction: lower\n        limit: {kind: relative, value: 0.1}\n        min_samples: 1\n")
    argv = ["gate", "--baseline", str(paths["b"]), "--candidate", str(paths["c"]), "--use-case", "t",
            "--policies", str(policy_file)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the baseline was measured on the packed") and len(err.strip().splitlines()) == 1
    assert main([*argv, "--allow-cross-engine"]) in (0, 1)
    assert "cross-engine comparison, allowed on request" in capsys.readouterr().out
