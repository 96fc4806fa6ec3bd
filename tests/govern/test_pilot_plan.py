"""run_pilot's knobs: PilotOptions or the old keywords, one route, unknown names refused before any work."""

import dataclasses

import pytest

from kit.eval.harness import Protocol
from kit.govern import pilot
from kit.govern.pilot_plan import PilotOptions


class _Stop(Exception):
    pass


def _capture(monkeypatch):
    seen = {}

    def fake_run_stages(plan, **_):
        seen["plan"] = plan
        raise _Stop

    monkeypatch.setattr(pilot, "_run_stages", fake_run_stages)
    return seen


def test_old_keywords_and_options_reach_the_same_plan(monkeypatch, tmp_path):
    seen = _capture(monkeypatch)
    knobs = {"protocol": Protocol(max_tokens=64), "full": True, "measure_speed": False, "progress": False,
             "device": "cpu", "cache": False, "overwrite": True, "out_dir": tmp_path / "out"}
    with pytest.raises(_Stop):
        pilot.run_pilot(model="smollm2-135m", use_case="chat-assistant", register=False, **knobs)
    by_keywords = seen.pop("plan")
    with pytest.raises(_Stop):
        pilot.run_pilot(model="smollm2-135m", use_case="chat-assistant", register=False,
                        options=PilotOptions(**knobs))
    assert seen["plan"] == by_keywords
    assert by_keywords.full and not by_keywords.measure_speed and by_keywords.overwrite
    assert by_keywords.out == (tmp_path / "out").resolve() and by_keywords.device == "cpu"
    assert {p.max_tokens for _, p in by_keywords.sets} == {64}


def test_a_keyword_overrides_the_options_and_an_unknown_one_is_a_type_error(monkeypatch):
    seen = _capture(monkeypatch)
    with pytest.raises(_Stop):
        pilot.run_pilot(model="smollm2-135m", use_case="chat-assistant", register=False,
                        options=PilotOptions(full=True, progress=False), full=False)
    assert seen["plan"].full is False
    with pytest.raises(TypeError, match="measure_sped"):
        pilot.run_pilot(model="smollm2-135m", use_case="chat-assistant", register=False, measure_sped=False)
    assert "plan" in seen and len(seen) == 1  # the refused call started nothing


def test_options_are_frozen_and_default_like_the_old_signature():
    opts = PilotOptions()
    assert (opts.protocol, opts.full, opts.measure_speed, opts.progress, opts.cache, opts.overwrite) == (
        None, False, True, None, None, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.full = True  # type: ignore[misc]
