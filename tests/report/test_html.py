"""The shared HTML renderer: escaped cells, coloured statuses, failing rows first, verdicts."""

import dataclasses
import re

from kit.govern.gate import MetricResult, Verdict
from kit.palette import STATUS_STYLES
from kit.report.html import page, render_badge, render_sentence, render_table, render_verdict

Q = "q" * 64


def _row_order(html_text, key_values):
    return sorted(key_values, key=html_text.index)


def test_table_escapes_cells_right_aligns_numbers_and_never_wraps():
    out = render_table([{"method": "<b>x</b>", "ppl": 11.59, "entry": None}], labels={"ppl": "stdlib ppl"})
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>x</b>" not in out
    assert "stdlib ppl" in out and "–" in out  # label used; missing value shown as a dash
    assert re.search(r"text-align: right;\">11.59<", out)
    assert out.count("<td") == 3 and out.count("white-space: nowrap") == 3 and "overflow-x: auto" in out  # cells
    assert "max-width: 7em" in out  # long headers wrap instead of widening the table


def test_status_cells_are_coloured_badges_and_failing_rows_come_first():
    rows = [{"metric": "a", "status": "pass"}, {"metric": "b", "status": "within-noise"},
            {"metric": "c", "status": "fail"}, {"metric": "d", "status": "insufficient-samples"}]
    out = render_table(rows, failing_first="status")
    assert _row_order(out, [">a<", ">b<", ">c<", ">d<"]) == [">c<", ">d<", ">b<", ">a<"]
    assert STATUS_STYLES["fail"][1] in out and STATUS_STYLES["pass"][1] in out
    plain = render_table(rows)  # without failing_first the order is kept
    assert _row_order(plain, [">a<", ">c<"]) == [">a<", ">c<"]


def test_empty_table_badge_sentence_and_page():
    assert "(no rows)" in render_table([])
    assert "FAIL" in render_badge("fail", text="FAIL") and STATUS_STYLES["fail"][0] in render_badge("fail")
    s = render_sentence("Decision: keep the baseline — x & y.", status="fail")
    assert "x &amp; y" in s and STATUS_STYLES["fail"][0] in s
    doc = page(s, title="Pilot <report>")
    assert doc.startswith("<!doctype html>") and "<title>Pilot &lt;report&gt;</title>" in doc


def _metric(metric, status, **kw):
    sets = {"perplexity": "stdlib-docs", "accuracy": "everyday-mc"}
    base = dict(metric=metric, eval_set=sets[metric], status=status, value=12.0, baseline=10.0, delta=0.2, limit=0.1,
                limit_kind="relative", margin=-0.1, direction="lower", samples=5000, min_samples=4000,
                sample_unit="tokens", test=None, note="")
    return MetricResult(**(base | kw))


def test_verdict_shows_decision_in_colour_and_failing_metrics_first():
    verdict = Verdict(
        use_case="chat-assistant", passed=False,
        candidate={"ref": "runs/bnb-int8", "method": "bnb-int8", "bits": 8}, baseline={"ref": "smollm2-135m"},
        metrics=(_metric("accuracy", "pass", value=0.7, baseline=0.7, delta=0.0, limit=0.03, limit_kind="absolute",
                         margin=0.03, direction="higher", samples=231, min_samples=200, sample_unit="items"),
                 _metric("perplexity", "fail", note="beyond the limit <by 10 %>")),
        policy={}, stack={}, created_at="2026-11-29T00:00:00Z")
    out = render_verdict(verdict)
    assert ">FAIL<" in out and STATUS_STYLES["fail"][0] in out and "chat-assistant" in out
    assert out.index(">perplexity<") < out.index(">accuracy<")  # the failing metric leads
    assert "+20.00%" in out and "&lt;by 10 %&gt;" in out  # the change, and the note escaped
    assert render_verdict(verdict.to_dict()) == out  # a stored verdict renders the same
    assert "runs/bnb-int8 on reference vs baseline smollm2-135m on reference" in out  # an old verdict: both reference
    packed = dataclasses.replace(verdict, candidate=verdict.candidate | {"engine": {"name": "packed", "backend": "torch"}})
    assert "runs/bnb-int8 on packed (torch) vs baseline" in render_verdict(packed)
