"""Console helpers: KIT_PROGRESS overrides detection; stage lines reach listeners only while registered."""

import pytest

from kit.console import on_stage, progress_default, stage


@pytest.mark.parametrize("value, expected", [("0", False), ("false", False), ("", False), ("1", True), ("yes", True)])
def test_kit_progress_overrides_detection(monkeypatch, value, expected):
    monkeypatch.setenv("KIT_PROGRESS", value)
    assert progress_default() is expected


def test_stage_prints_one_line_and_calls_listeners_while_registered(capsys):
    heard = []
    with on_stage(lambda name, message: heard.append((name, message))):
        stage("gate", "rtn: PASS")
    stage("gate", "after")
    assert capsys.readouterr().out == "[gate] rtn: PASS\n[gate] after\n"
    assert heard == [("gate", "rtn: PASS")]


def test_a_listener_that_raises_stops_the_caller_and_is_removed():
    def cancel(name, message):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), on_stage(cancel):
        stage("load", "x")
    stage("load", "no listener now")
