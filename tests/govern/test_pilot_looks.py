"""A candidate's look-by-look summary: the fraction of each set it used, the stop reason, one line."""

from kit.govern.pilot_looks import Progress, stop_line


def _record(kind, scored, total):
    return {"schema": "kit.eval/1", "model": {}, "protocol": {}, "eval_set": {"name": "s", "kind": kind},
            "accuracy": {}, "order": {"scored": scored, "total": total}}


def test_summary_reads_each_record_and_leaves_unscored_sets_empty():
    p = Progress("gptq", 3)
    p.records[0], p.records[1] = _record("text", 16, 49), _record("multiple_choice", 84, 336)
    p.stopped = "fail: perplexity beyond the limit"
    ev = p.summary(["docs", "mc", "chat"])
    assert ev["sets"]["docs"] == {"scored": 16, "total": 49, "unit": "windows", "fraction": 0.327}
    assert ev["sets"]["mc"]["unit"] == "items" and ev["sets"]["mc"]["fraction"] == 0.25
    assert ev["sets"]["chat"] == {"scored": 0, "total": 0, "unit": "items", "fraction": None}
    assert stop_line("gptq", ev) == ("gptq: docs 16/49 windows (33%), mc 84/336 items (25%) — "
                                     "fail: perplexity beyond the limit")
