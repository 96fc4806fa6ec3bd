"""The pairing drill's bookkeeping: seeded draw per pair, hint ladder logged, hypothesis scored only after commitment."""

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
