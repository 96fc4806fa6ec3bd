import pytest

from kit.errors import KitError
from kit.teach.widgets import Selection, build_panel, render_result, run_selection

FAKE_RESULT = {
    "table": [{"method": "baseline", "ppl": 11.7, "gate": "-"}, {"method": "bnb-int8", "ppl": 12.0, "gate": "pass"}],
    "candidates": [{"verdict_text": "PASS bnb-int8 for chat-assistant\n  perplexity ... pass"}],
    "decision": {"recommended": "bnb-int8", "why": "the sanctioned default passed"},
}


def fake_runner(calls):
    def run(**kwargs):
        calls.append(kwargs)
        return FAKE_RESULT
    return run


def test_run_selection_passes_choices_to_the_flow():
    calls = []
    sel = Selection(method="gptq", bits=4, use_case="batch-summaries", samples=8, seq_len=64, max_tokens=256, limit=0)
    assert run_selection(sel, runner=fake_runner(calls)) is FAKE_RESULT
    (kw,) = calls
    assert kw["methods"] == ["gptq"] and kw["bits"] == 4 and kw["use_case"] == "batch-summaries"
    assert kw["limit"] is None and kw["max_tokens"] == 256 and kw["reason"] is None


def test_run_selection_rejects_bits_the_method_cannot_do():
    with pytest.raises(KitError, match=r"bnb-int8 does not do 4-bit; choose \[8\]"):
        run_selection(Selection(method="bnb-int8", bits=4), runner=fake_runner([]))


def test_render_result_shows_table_verdict_and_decision():
    text = render_result(FAKE_RESULT)
    assert "baseline" in text and "PASS bnb-int8" in text and "decision: bnb-int8" in text


def test_panel_button_callback_fills_the_output():
    calls = []
    panel = build_panel(runner=fake_runner(calls))
    panel.controls["method"].value = "awq"
    assert list(panel.controls["bits"].options) == [4]  # bits follow the method
    panel.controls["reason"].value = "serving on vLLM"
    panel.on_run()
    assert calls[0]["methods"] == ["awq"] and calls[0]["reason"] == "serving on vLLM"
    assert panel.results == [FAKE_RESULT]


def test_panel_shows_errors_in_one_line():
    def failing(**kwargs):
        raise KitError("use case 'x' unknown; pick one of ...")
    panel = build_panel(runner=failing)
    panel.on_run()
    assert panel.results == []
