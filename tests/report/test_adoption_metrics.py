"""The adoption dashboard's four metrics: arithmetic on hand-made inputs, then collected from a real registry."""

import datetime

import pytest
from helpers import STACK
from pilot_fixtures import make_fixed_pilot

from kit.govern.registry import Registry
from kit.report.adoption import collect, coverage, cumulative_savings, incident_counts, time_to_quantize


def test_coverage_is_weighted_by_volume_and_ranked_top_down():
    c = coverage(volumes={"a": 600, "b": 300, "c": 100, "d": 0}, covered={"b", "c"}, top_n=2)
    assert c["total_volume"] == 1000 and c["covered_volume"] == 400 and c["share"] == pytest.approx(0.4)
    assert [r["model"] for r in c["rows"]] == ["a", "b", "c", "d"]
    assert [r["cumulative_share"] for r in c["rows"]] == pytest.approx([0.6, 0.9, 1.0, 1.0])
    assert c["top_n_share"] == pytest.approx(300 / 900) and c["top_n_covered"] == 1
    assert coverage(volumes={}, covered=set(), top_n=3)["share"] == 0.0


def test_time_to_quantize_from_timestamps_and_its_monthly_trend():
    t = time_to_quantize(
        first_pilot={"a": "2026-09-01T00:00:00Z", "b": "2026-09-10T12:00:00Z", "c": "2026-10-01T00:00:00Z",
                     "d": "2026-11-01T00:00:00Z"},
        first_promotion={"a": "2026-09-15T00:00:00Z", "b": "2026-09-12T12:00:00Z", "c": "2026-10-02T06:00:00Z"})
    assert [(r["model"], r["hours"]) for r in t["rows"]] == [("b", 48.0), ("a", 336.0), ("c", 30.0)]
    assert t["median_hours"] == 48.0 and t["not_promoted"] == ["d"]
    assert t["trend"] == [{"month": "2026-09", "median_hours": 192.0, "models": 2},
                          {"month": "2026-10", "median_hours": 30.0, "models": 1}]


def test_incident_counts_by_stage_and_month():
    i = incident_counts(incidents=[{"stage": "gate", "occurred_at": "2026-09-04"},
                                   {"stage": "gate", "occurred_at": "2026-09-18"},
                                   {"stage": "production", "occurred_at": "2026-10-02T10:00:00Z"}])
    assert (i["gate"], i["production"], i["total"]) == (2, 1, 3) and i["caught_at_gate_share"] == pytest.approx(2 / 3)
    assert i["by_month"] == [{"month": "2026-09", "gate": 2, "production": 0},
                             {"month": "2026-10", "gate": 0, "production": 1}]
    assert incident_counts(incidents=[])["caught_at_gate_share"] is None


def test_cumulative_savings_accumulate_from_each_promotion_day():
    s = cumulative_savings(streams=[{"model": "a", "start": "2026-11-01", "usd_per_day": 10.0},
                                    {"model": "b", "start": "2026-11-03T08:00:00Z", "usd_per_day": 5.0}],
                           as_of=datetime.date(2026, 11, 4))
    assert [p["cumulative_usd"] for p in s["series"]] == [10.0, 20.0, 35.0, 50.0]
    assert s["total_usd"] == 50.0 and s["by_model"] == {"a": 40.0, "b": 10.0}
    assert cumulative_savings(streams=[], as_of=datetime.date(2026, 1, 1))["total_usd"] == 0.0


def test_collect_joins_the_example_inventory_with_real_entries(tmp_path):
    path, entries = make_fixed_pilot(tmp_path)
    with Registry.open(path) as reg:
        reg.import_inventory("data/examples/inventory.csv")
        reg.import_incidents("data/examples/incidents.csv")
        reg.record_incident(entry_id=entries[1].id, stage="gate", note="nf4 failed perplexity",
                            occurred_at="2026-11-20")
        before = collect(registry=reg, top_n=3, cost_basis="throughput", as_of=datetime.date(2026, 12, 1))
        assert before["example_data"] and before["coverage"]["share"] == 0.0  # nothing promoted yet
        assert before["time_to_quantize"]["not_promoted"] == ["smollm2-135m"]
        reg.promote(entries[0].id, stack=STACK)
        d = collect(registry=reg, top_n=3, cost_basis="throughput", as_of=datetime.date(2026, 12, 31))
    total = 1200000 + 450000 + 380000 + 210000 + 35000 + 900000 + 60000 + 12000
    assert d["coverage"]["total_volume"] == total and d["coverage"]["share"] == pytest.approx(450000 / total)
    assert [r["model"] for r in d["coverage"]["rows"][:3]] == ["support-chat-8b", "search-rerank-1b", "smollm2-135m"]
    assert d["coverage"]["top_n_share"] == pytest.approx(450000 / (1200000 + 900000 + 450000))
    assert d["incidents"]["gate"] == 5 and d["incidents"]["production"] == 1
    (row,) = d["savings"]["per_model"]
    # int8 decodes at 20 tok/s vs the baseline's 40: twice the serving hours, so it costs 96 USD/day more
    assert row["cost_ratio"] == pytest.approx(2.0) and row["usd_per_day"] == pytest.approx(-96.0)
    days = (datetime.date(2026, 12, 31) - datetime.date.fromisoformat(row["since"])).days + 1
    assert d["savings"]["total_usd"] == pytest.approx(-96.0 * days)
    assert len(d["time_to_quantize"]["rows"]) == 1 and d["time_to_quantize"]["rows"][0]["hours"] >= 0
    assert {t["kind"] for t in d["trends"]} == {"register"} and len(d["trends"]) == 2


def test_time_to_quantize_splits_first_pilots_from_templated_ones():
    t = time_to_quantize(first_pilot={"a": "2026-01-01T00:00:00Z", "b": "2026-02-01T00:00:00Z"},
                         first_promotion={"a": "2026-01-05T00:00:00Z", "b": "2026-02-01T12:00:00Z"},
                         followed={"b": "e1"})
    assert [r["template_of"] for r in t["rows"]] == [None, "e1"]
    assert t["by_kind"] == {"first pilot": {"models": 1, "median_hours": 96.0},
                            "templated": {"models": 1, "median_hours": 12.0}}
