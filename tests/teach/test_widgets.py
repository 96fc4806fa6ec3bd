import pytest

from kit.errors import KitError
from kit.eval.harness import Protocol
from kit.quant.methods import METHOD_TABLE
from kit.quant.spec import CalibrationSpec, QuantSpec
from kit.teach.widgets import METHOD_BITS, Selection, build_panel, render_result, run_selection

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
    assert kw["candidates"] == [QuantSpec(method="gptq", bits=4, calibration=CalibrationSpec(samples=8, seq_len=64))]
    assert kw["use_case"] == "batch-summaries" and kw["reason"] is None
    assert kw["protocol"] == Protocol(max_tokens=256, limit=None)


def test_pickers_offer_exactly_what_the_method_table_supports():
    assert METHOD_BITS == {row.name: list(row.bits) for row in METHOD_TABLE}
    panel = build_panel(runner=fake_runner([]))
    assert list(panel.controls["method"].options) == [row.name for row in METHOD_TABLE]
    for row in METHOD_TABLE:
        panel.controls["method"].value = row.name
        assert list(panel.controls["bits"].options) == list(row.bits)


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
    assert list(panel.controls["bits"].options) == list(METHOD_BITS["awq"])  # bits follow the method
    panel.controls["reason"].value = "serving on vLLM"
    panel.on_run()
    assert calls[0]["candidates"][0].method == "awq" and calls[0]["reason"] == "serving on vLLM"
    assert panel.results == [FAKE_RESULT]


def test_panel_shows_errors_in_one_line():
    def failing(**kwargs):
        raise KitError("use case 'x' unknown; pick one of ...")
    panel = build_panel(runner=failing)
    panel.on_run()
    assert panel.results == []
