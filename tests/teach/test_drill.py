"""The pairing drill: seeded draw per pair, hints logged, the navigator's instruments and fix, the pair scored last."""

from __future__ import annotations

import pytest

from kit.debug.regressions import list_regressions, load_regression
from kit.errors import KitError
from kit.teach import drill
from kit.teach.progress import load


@pytest.fixture(autouse=True)
def _log(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_PROGRESS_LOG", str(tmp_path / "progress.json"))


def test_the_draw_is_seeded_per_pair_recorded_and_needs_two_people():
    first = drill.draw(pair="ana+bo")
    assert drill.draw(pair="ana+bo") == first and first in list_regressions()
    draws = {drill.draw(pair=f"p{i}+q{i}") for i in range(40)}
    assert len(draws) >= 5, "different pairs should get different regressions"
    assert load()["drills"]["ana+bo"]["regression"] == first and load()["drills"]["ana+bo"]["seed"] == 0
    with pytest.raises(KitError, match="two people"):
        drill.draw(pair="ana")


@pytest.mark.parametrize("name", list_regressions())
def test_every_regression_has_three_distinct_rungs_and_only_the_last_points_at_the_place(name):
    ladder = drill.hint_ladder(name)
    assert len(ladder) == 3 and len(set(ladder)) == 3
    targets = [str(t) for t in load_regression(name).answer["targets"]]
    assert not any(t in rung for t in targets for rung in ladder[:2])


def _play(name, monkeypatch, *, cause, target, hints=0):
    monkeypatch.setattr(drill.random, "Random", lambda seed: type("R", (), {"choice": lambda self, xs: name})())
    pair = "ana+bo"
    drill.draw(pair=pair)
    for _ in range(hints):
        assert drill.hint(pair=pair).startswith("hint ")
    with pytest.raises(KitError, match="commit a hypothesis first"):
        drill.score(pair=pair)
    drill.commit(pair=pair, cause=cause, target=target, why="scripted")
    return drill.score(pair=pair)


@pytest.mark.parametrize("name", list_regressions())
def test_a_scripted_right_hypothesis_scores_right_for_every_regression(name, monkeypatch):
    truth = load_regression(name).answer
    result = _play(name, monkeypatch, cause=truth["cause"], target=truth["targets"][0], hints=2)
    assert result["cause_right"] and result["place_right"] and result["missed"] == ""
    log = load()["drills"]["ana+bo"]
    assert [h["rung"] for h in log["hints"]] == ["symptom", "instrument"] and log["hypothesis"]["hints_before"] == 2


@pytest.mark.parametrize("name", list_regressions())
def test_a_scripted_wrong_hypothesis_reports_the_miss_for_every_regression(name, monkeypatch):
    truth = load_regression(name).answer
    wrong = "stack" if truth["cause"] != "stack" else "scheme"
    result = _play(name, monkeypatch, cause=wrong, target="nowhere")
    assert not result["cause_right"] and result["place_right"] is False
    assert result["planted_cause"] == truth["cause"] and result["missed"] == str(truth["missed"]).strip()


def test_a_hypothesis_is_committed_once_and_hints_run_out(monkeypatch):
    _play("misscaled-down-proj", monkeypatch, cause="module", target=None)
    with pytest.raises(KitError, match="already committed"):
        drill.commit(pair="ana+bo", cause="block")
    for _ in range(3):
        drill.hint(pair="ana+bo")
    assert drill.hint(pair="ana+bo").startswith("no more hints")
    assert [h["after_commit"] for h in load()["drills"]["ana+bo"]["hints"]] == [True, True, True]
    with pytest.raises(KitError, match="cause must be one of"):
        drill.commit(pair="ana+bo", cause="bad luck")
    with pytest.raises(KitError, match="has not drawn"):
        drill.hint(pair="cy+di")


def test_a_named_regression_is_recorded_without_a_seed():
    assert drill.draw(pair="ana+bo", regression="two-bit-block") == "two-bit-block"
    assert load()["drills"]["ana+bo"]["seed"] is None
    with pytest.raises(KitError, match="no planted regression"):
        drill.draw(pair="ana+bo", regression="no-such-fault")


class _Gate:
    """A stand-in gate: every candidate gets ``decision``; counts its runs like ``GateOracle``."""

    def __init__(self, decision):
        self.decision, self.calls, self.last_records = decision, 0, []

    def __call__(self, candidate):
        self.calls += 1
        line = type("Line", (), {"metric": "kl", "status": self.decision})()
        return type("Verdict", (), {"decision": self.decision, "passed": self.decision == "pass",
                                    "metrics": (line,)})()


def _fix(name, monkeypatch, *, kind, value, decision):
    import kit.debug

    monkeypatch.setattr(kit.debug, "fixed_candidate", lambda reg, **kw: ("fixed", reg.name, kw["fix"]))
    gate = _Gate(decision)
    out = drill.fix(pair="ana+bo", kind=kind, value=value, candidate=None, base=None, baseline=None, oracle=gate)
    assert gate.calls == 1 and out["candidate"][2] == out["fix"]
    return drill.score(pair="ana+bo")


def _right_fix(truth):
    from kit.debug import fix_kind

    kind = fix_kind(truth["fix"])
    return kind, {"ignore": truth["fix"].get("ignore"), "tokenizer": None, "scheme": truth["fix"],
                  "calibration": truth["fix"].get("calibration"), "samples": truth["fix"].get("samples")}[kind]


@pytest.mark.parametrize("name", list_regressions())
def test_the_fix_branch_of_the_planted_kind_completes_the_drill_and_another_kind_is_the_miss(name, monkeypatch):
    truth = load_regression(name).answer
    _play(name, monkeypatch, cause=truth["cause"], target=truth["targets"][0])
    kind, value = _right_fix(truth)
    wrong = "tokenizer" if kind != "tokenizer" else "ignore"
    result = _fix(name, monkeypatch, kind=wrong, value=["lm_head"], decision="fail")
    assert result["fix_right"] is False and not result["completed"] and f"this fault needs {kind}" in result["missed"]
    result = _fix(name, monkeypatch, kind=kind, value=value, decision="pass")
    assert result["fix_right"] and result["completed"] and result["missed"] == ""
    assert [f["kind"] for f in load()["drills"]["ana+bo"]["fixes"]] == [wrong, kind]


def test_fix_and_instruments_refuse_bad_choices_before_any_work(monkeypatch):
    _play("clipped-block", monkeypatch, cause="block", target="model.layers.2")
    gate = _Gate("pass")
    for kind, value, match in [("magic", None, "fix kind must be one of"), ("scheme", {"bitz": 8}, "scheme fix"),
                               ("calibration", "wikipedia", "calibration must be one of"),
                               ("samples", 0, "samples must be"),
                               ("ignore", None, "bisection ranks the module table")]:
        with pytest.raises(KitError, match=match):
            drill.fix(pair="ana+bo", kind=kind, value=value, candidate=None, base=None, baseline=None, oracle=gate)
    with pytest.raises(KitError, match="instruments must be some of"):
        drill.instruments(pair="ana+bo", picks=["modules", "astrology"], baseline=None, candidate=None,
                          use_case="code-completion")
    with pytest.raises(KitError, match="instruments must be some of"):
        drill.instruments(pair="ana+bo", picks=[], baseline=None, candidate=None, use_case="code-completion")
    assert gate.calls == 0 and load()["drills"]["ana+bo"]["fixes"] == []
    assert drill.score(pair="ana+bo")["fix_right"] is None  # no fix tried yet: not scored as wrong


def test_the_hint_ladder_names_an_instrument_the_navigator_can_pick():
    from kit.debug import INSTRUMENTS

    for name in list_regressions():
        rung = drill.hint_ladder(name)[1]
        assert any(f"`{pick}` instrument" in rung for pick in INSTRUMENTS), rung


# --- the drill headless on every bundled regression, real model, scripted pairs (slow: minutes) ---
PICKS = {"module": ["modules"], "block": ["modules"], "scheme": ["scheme"], "calibration": ["calibration"],
         "chat_template": ["tokenizer"]}  # the instrument a navigator who read the symptom would pick
BISECT = {"misscaled-down-proj"}  # the scripted navigator asks bisection for the ignore list (elsewhere: names it)


def _headless(name, *, smol, planted_bases, rehearsal_gates):
    """One round per scripted pair on the same planted candidate: a right one and a wrong one."""
    from kit.debug import build_candidate, fix_kind, recipe

    reg = load_regression(name)
    truth = reg.answer
    base = planted_bases(recipe(reg))
    candidate = build_candidate(reg, base=base, baseline=smol)
    gate = rehearsal_gates(reg.use_case, reg.rehearsal_size())
    assert not gate(candidate).passed, "stage 1: the planted candidate fails its rehearsal gate"
    kind, value = _right_fix(truth)
    out = {}
    for pair, right in (("ana+bo", True), ("cy+di", False)):
        drill.draw(pair=pair, regression=name)
        cause = truth["cause"] if right else ("scheme" if truth["cause"] != "scheme" else "block")
        drill.commit(pair=pair, cause=cause, target=truth["targets"][0] if right else "nowhere", why="scripted")
        diag = drill.instruments(pair=pair, picks=PICKS[truth["cause"]] if right else ["stack"], baseline=smol,
                                 candidate=candidate, use_case=reg.use_case)
        if right:
            numeric = {"module", "block"}
            top = diag.top
            assert top and (top["kind"] == truth["cause"] or {top["kind"], truth["cause"]} <= numeric), diag.format()
            bisect = name in BISECT
            done = drill.fix(pair=pair, kind=kind, value=None if bisect else value, candidate=candidate, base=base,
                             baseline=smol, oracle=gate, table=diag.table)
            assert done["decision"] != "fail" and not done["failing"], done["verdict"].format()
            if truth["cause"] != "chat_template":  # chat-assistant's 20 items cannot
                assert done["verdict"].passed, done["verdict"].format()  # prove its limit: inconclusive at best
        else:
            wrong = "tokenizer" if kind != "tokenizer" else "ignore"
            done = drill.fix(pair=pair, kind=wrong, value=["lm_head"], candidate=candidate, base=base, baseline=smol,
                             oracle=gate)
            assert not done["verdict"].passed, done["verdict"].format()
        out[right] = drill.score(pair=pair)
    assert fix_kind(truth["fix"]) == kind
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", list_regressions())
def test_the_drill_completes_headless_with_right_answers_and_reports_the_miss_with_wrong_ones(
        name, smol, planted_bases, rehearsal_gates):
    scored = _headless(name, smol=smol, planted_bases=planted_bases, rehearsal_gates=rehearsal_gates)
    right, wrong = scored[True], scored[False]
    assert right["completed"] and right["missed"] == "" and right["instruments_before_commit"] == 0, right
    assert not wrong["completed"] and not wrong["cause_right"] and wrong["fix_right"] is False, wrong
    truth = load_regression(name).answer
    assert str(truth["missed"]).strip() in wrong["missed"] and f"needs {right['planted_fix_kind']}" in wrong["missed"]
    log = load()["drills"]
    assert log["ana+bo"]["instruments"][0]["picks"] == PICKS[truth["cause"]] and log["cy+di"]["fixes"][0]["kind"]
