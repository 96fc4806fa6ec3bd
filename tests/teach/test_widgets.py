import io
import json
import logging
import sys
import threading
import time
import warnings

import pytest

from kit.errors import KitError
from kit.eval.harness import Protocol
from kit.govern.gate import MetricResult, Verdict
from kit.quant.methods import METHOD_TABLE
from kit.quant.spec import CalibrationSpec, QuantSpec
from kit.teach.panel_view import decision_sentence
from kit.teach.widgets import METHOD_BITS, PRESETS, Selection, build_panel, render_result, run_selection


def _verdict(*statuses):
    """A chat-assistant verdict for bnb-int8 with one perplexity-like line per status."""
    metrics = tuple(MetricResult(metric=m, eval_set="stdlib-docs", status=st, value=12.0, baseline=10.0, delta=0.2,
                                 limit=0.1, limit_kind="relative", margin=-0.1, direction="lower", samples=256,
                                 min_samples=4000, sample_unit="tokens", test=None, note="")
                    for m, st in zip(("top1_agreement", "perplexity", "kl_mean"), statuses))
    return Verdict(use_case="chat-assistant", passed=all(st == "pass" for st in statuses),
                   candidate={"ref": "runs/bnb-int8", "method": "bnb-int8", "bits": 8},
                   baseline={"ref": "smollm2-135m"}, metrics=metrics, policy={}, stack={},
                   created_at="2026-11-29T00:00:00Z").to_dict()


FAKE_RESULT = {
    "use_case": "chat-assistant",
    "table": [{"method": "baseline", "ppl": 11.7, "gate": "-"}, {"method": "bnb-int8", "ppl": 12.0, "gate": "pass"}],
    "candidates": [{"method": "bnb-int8", "verdict": _verdict("pass", "pass"),
                    "verdict_text": "PASS bnb-int8 for chat-assistant\n  perplexity ... pass"}],
    "decision": {"recommended": "bnb-int8", "entry_id": "abc123", "why": "the sanctioned default passed"},
}
FAILED_RESULT = FAKE_RESULT | {
    "table": [{"method": "baseline", "stored_MiB": 513.0, "ppl": 11.7, "gate": "-", "entry": None},
              {"method": "bnb-int8", "stored_MiB": 162.4, "ppl": 14.0, "gate": "fail", "entry": "abc123"}],
    "candidates": [{"method": "bnb-int8", "verdict": _verdict("pass", "fail"), "verdict_text": "FAIL"}],
    "decision": {"recommended": None, "entry_id": None, "why": "no candidate passed the gate; keep the baseline"},
}


@pytest.fixture(autouse=True)
def scratch_runs(tmp_path, monkeypatch):
    """Each test sees its own runs folder (panels show the latest run in it)."""
    monkeypatch.setenv("KIT_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


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
    assert {row.name: list(row.bits) for row in METHOD_TABLE} == METHOD_BITS
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
    assert "baseline" in text and "PASS bnb-int8" in text
    assert "Decision: use bnb-int8 for chat-assistant (registry entry abc123) — the sanctioned default passed." in text


def test_panel_button_callback_fills_the_output():
    calls = []
    panel = build_panel(runner=fake_runner(calls), background=False)
    panel.controls["method"].value = "awq"
    assert list(panel.controls["bits"].options) == list(METHOD_BITS["awq"])  # bits follow the method
    panel.controls["reason"].value = "serving on vLLM"
    panel.on_run()
    assert calls[0]["candidates"][0].method == "awq" and calls[0]["reason"] == "serving on vLLM"
    assert panel.results == [json.loads(json.dumps(FAKE_RESULT))]  # read back from the run folder


def test_panel_shows_errors_in_one_line():
    def failing(**kwargs):
        raise KitError("use case 'x' unknown; pick one of ...")
    panel = build_panel(runner=failing, background=False)
    panel.on_run()
    assert panel.results == []
    assert "use case &#x27;x&#x27; unknown; pick one of ..." in panel.parts["status"].value
    assert panel.parts["status"].value.count("\n") == 0 and "Traceback" not in panel.parts["status"].value


# --- issue 15: the five problems a JupyterLab user met, one test (or more) each ---


def test_1_result_is_an_html_table_with_coloured_verdict_and_failing_metrics_first():
    panel = build_panel(runner=lambda **kw: FAILED_RESULT, background=False)
    panel.on_run()
    html = panel.parts["result"].value
    assert "<table" in html and "white-space: nowrap" in html and "overflow-x: auto" in html  # no mid-row wraps
    assert ">FAIL<" in html and "#8f1d14" in html  # the verdict, in red
    assert html.index(">perplexity<") < html.index(">top1_agreement<")  # the failing metric first
    assert "registry entry" in html and "stored MiB" in html  # full column labels


def test_2_library_noise_stays_out_of_the_notebook_and_behind_details(capsys):
    def noisy(**kw):
        logging.getLogger("bitsandbytes").warning("MatMul8bitLt: inputs will be cast from float32 to float16")
        logging.getLogger("transformers.tokenization_utils_base").warning("clean_up_tokenization_spaces ...")
        warnings.warn("Failed to load CPU gemm_4bit_forward; pip install kernels", stacklevel=2)
        print("a third-party progress bar 3/10", file=sys.stderr)
        return FAKE_RESULT

    panel = build_panel(runner=noisy, background=False)
    panel.on_run()
    err = capsys.readouterr().err
    for text in ("MatMul8bitLt", "clean_up_tokenization", "gemm_4bit_forward", "third-party progress"):
        assert text not in err
    assert panel.parts["details"].layout.display == "none"
    panel.parts["toggle"].value = True  # the "details" toggle
    details = panel.parts["details"].value
    assert panel.parts["details"].layout.display == "block" and "run.log" in details
    for text in ("MatMul8bitLt", "clean_up_tokenization", "gemm_4bit_forward", "third-party progress"):
        assert text in details


def _wait(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_3_busy_state_one_run_at_a_time_heartbeat_and_clean_cancel():
    from kit.console import stage
    from kit.teach.panel_runs import RESULT_FILE, read_status

    started, calls = threading.Event(), []

    def slow(**kw):
        calls.append(kw)
        stage("baseline", "smollm2-135m scored")
        started.set()
        from tqdm.auto import tqdm

        for _ in tqdm(range(10_000), desc="perplexity", file=io.StringIO(), mininterval=0):  # a long step, ticking
            time.sleep(0.005)
        return FAKE_RESULT

    panel = build_panel(runner=slow)
    panel.on_run()
    assert started.wait(10)
    panel.refresh()
    run, cancel, status = panel.parts["run"], panel.parts["cancel"], panel.parts["status"]
    assert run.disabled and run.description == "Running…" and not cancel.disabled
    assert all(w.disabled for w in panel.controls.values())
    _wait(lambda: "perplexity" in panel.parts["status"].value)  # the heartbeat: the bar's tick and the clock
    assert "baseline" in status.value and "elapsed" in status.value and "last stage line" in status.value
    panel.on_run()  # a second click while running does not start a second run
    assert len(calls) == 1 and "already going on" in status.value
    panel.on_cancel()
    assert cancel.disabled and cancel.description == "Cancelling…"
    _wait(lambda: panel.refresh() == "cancelled")
    assert not run.disabled and run.description == "Run pilot" and cancel.description == "Cancel"
    assert read_status(panel.shown)["state"] == "cancelled" and not (panel.shown / RESULT_FILE).exists()
    assert panel.parts["result"].value == "" and panel.results == []


def test_4_a_new_panel_shows_the_latest_run_running_or_finished(scratch_runs):
    release = threading.Event()

    def waiting(**kw):
        release.wait(10)
        return FAILED_RESULT

    first = build_panel(runner=waiting)
    first.on_run()
    reopened = build_panel()  # a reloaded page / re-run cell / new kernel builds a fresh panel
    assert reopened.shown == first.shown and "running" in reopened.parts["status"].value
    assert reopened.parts["run"].disabled  # and it does not offer a second run meanwhile
    release.set()
    _wait(lambda: reopened.refresh() == "done")
    assert "Decision: keep the baseline" in reopened.parts["result"].value
    later = build_panel()  # after the run: the outcome comes from the run folder, not live messages
    assert "Decision: keep the baseline" in later.parts["result"].value and "finished" in later.parts["status"].value
    assert sorted(p.name for p in first.shown.iterdir()) == ["panel-status.json", "result.json", "run.log"]


def test_5_quick_preset_full_labels_and_one_decision_sentence():
    panel = build_panel(runner=fake_runner([]))
    assert panel.parts["preset"].value == "quick look"  # the suggested first run
    sel = panel.selection()
    assert (sel.max_tokens, sel.limit, sel.measure_speed) == (256, 4, False)
    assert "not a validation" in panel.parts["preset_note"].value and "1-2 minutes" in PRESETS["quick look"].note
    panel.parts["preset"].value = "validation (full sets)"
    assert (panel.selection().max_tokens, panel.selection().limit) == (0, 0)
    labels = [w.description for w in panel.controls.values()]
    assert all("…" not in d and "cal." not in d and "=…" not in d for d in labels)
    assert "items per task set (0 = whole set)" in labels and "calibration samples" in labels
    sentence, status = decision_sentence(FAILED_RESULT)
    assert sentence.count("keep the baseline") == 1 and status == "fail" and "perplexity" in sentence
    quick = FAILED_RESULT | {"candidates": [{"method": "bnb-int8", "verdict": _verdict("insufficient-samples")}]}
    sentence, status = decision_sentence(quick)
    assert sentence.startswith("Decision: not validated") and status == "insufficient-samples"
    assert "keep the baseline" in render_result(FAILED_RESULT) and render_result(FAILED_RESULT).count(
        "keep the baseline") == 1


def test_a_failure_inside_the_live_view_still_reads_failed():
    class KernelOutput:  # in a kernel, ipywidgets' Output shows an exception leaving its block and swallows it
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return True

        def clear_output(self):
            pass

    def failing(**kw):
        raise KitError("use case 'x' unknown; pick one of chat-assistant")

    panel = build_panel(runner=failing, background=False)
    panel.output = KernelOutput()
    panel.on_run()
    assert panel.refresh() == "failed" and "unknown" in panel.parts["status"].value and panel.results == []
