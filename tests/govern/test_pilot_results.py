"""The pilot's result tables: the recommendation rule and a fully scored record's line."""

from kit.govern.pilot import decision_table as reexported
from kit.govern.pilot_results import decide, decision_table, scored_line


def _cand(method, passed, stored):
    return {"method": method, "verdict": {"passed": passed}, "entry_id": f"id-{method}",
            "config": {"weight_bytes": stored}}


def test_the_sanctioned_default_wins_when_it_passed_even_if_larger():
    cands = [_cand("rtn", True, 100), _cand("gptq", True, 300)]
    assert decide("gptq", cands) == {"recommended": "gptq", "entry_id": "id-gptq", "why": "the sanctioned default passed"}


def test_otherwise_the_smallest_passing_candidate_and_none_when_nothing_passed():
    cands = [_cand("gptq", False, 100), _cand("awq", True, 300), _cand("rtn", True, 200)]
    assert decide("gptq", cands)["recommended"] == "rtn"
    nothing = decide("gptq", [_cand("gptq", False, 100)])
    assert nothing["recommended"] is None and "keep the baseline" in nothing["why"]


def _record(kind, accuracy, order=None):
    rec = {"schema": "kit.eval/1", "model": {}, "protocol": {}, "eval_set": {"name": "s", "kind": kind},
           "accuracy": accuracy}
    return rec | ({"order": order} if order else {})


def test_a_scored_line_counts_windows_or_items_and_reads_old_records_without_an_order():
    assert scored_line(_record("text", {"windows": 12})) == {"scored": 12, "total": 12, "unit": "windows",
                                                              "fraction": 1.0}
    seeded = _record("multiple_choice", {"items": 40}, order={"scored": 40, "total": 40})
    assert scored_line(seeded) == {"scored": 40, "total": 40, "unit": "items", "fraction": 1.0}
    assert scored_line(_record("generation", {}))["fraction"] is None


def test_the_tables_stay_importable_from_the_pilot():
    assert reexported is decision_table


def test_the_decision_table_puts_the_baseline_first_and_reads_sizes_from_log_or_record():
    def rec(weight_bytes):
        memory = {"weight_bytes": weight_bytes, "peak_rss_bytes": 2**30}
        return {"schema": "kit.eval/1", "model": {"ref": "m"}, "protocol": {}, "memory": memory,
                "eval_set": {"name": "mc", "kind": "multiple_choice"}, "accuracy": {"accuracy": 0.5, "items": 10}}

    cand = {"method": "rtn", "records": [rec(2**20)], "config": {}, "entry_id": "e1",
            "verdict": {"candidate": {"bits": 4}, "decision": "pass"}}
    rows = decision_table(baseline=[rec(4 * 2**20)], candidates=[cand])
    assert [r["method"] for r in rows] == ["baseline", "rtn"]
    assert (rows[0]["stored_MiB"], rows[1]["stored_MiB"], rows[1]["gate"], rows[1]["entry"]) == (4.0, 1.0, "pass", "e1")
