"""The registry's adoption tables: inventory and incident import, the incident CLI, promotions, stored reports."""

import sqlite3

import pytest
from helpers import PERPLEXITY_POLICY, STACK, synthetic_record

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import gate
from kit.govern.registry import Registry

EXAMPLES = "data/examples"
POLICY = PERPLEXITY_POLICY


def _add(reg, ppl=12.0):
    base = [synthetic_record()]
    cand = [synthetic_record(sha="q" * 64, perplexity=ppl, method="bnb-int8", bits=8)]
    return reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=POLICY))


def test_example_inventory_and_incidents_import_once_and_join_the_embedded_model(registry_target):
    with Registry.open(registry_target) as reg:
        assert reg.inventory() == [] and reg.incidents() == []  # absent tables read as empty
        items, batch = reg.import_inventory(f"{EXAMPLES}/inventory.csv")
        assert len(items) == 8 and batch.row_count == 8 and all(i.source == "example:inventory.csv" for i in items)
        inv = reg.inventory()
        assert [i.requests_per_day for i in inv] == sorted((i.requests_per_day for i in inv), reverse=True)
        assert {i.model_ref for i in inv} >= {"smollm2-135m"}
        reg.import_incidents(f"{EXAMPLES}/incidents.csv")
        reg.import_incidents(f"{EXAMPLES}/incidents.csv")  # re-import adds nothing
        assert len(reg.incidents()) == 5 and len(reg.incidents(stage="production")) == 1
        assert reg.incidents(model_ref="smollm2-135m")[0].occurred_at == "2026-10-21T00:00:00Z"
        reg.import_inventory(f"{EXAMPLES}/inventory.csv")  # upsert, no duplicates
        assert len(reg.inventory()) == 8
        incidents = [b for b in reg.imports() if b.kind == "incidents"]
        assert [b.row_count for b in incidents] == [5, 0]  # the second import added nothing
        reg.undo_import(incidents[0].id)
        assert reg.incidents() == []
        last = reg.imports()[-1]
        assert reg.undo_import(last.id)[1:] == (8, 0)  # restores the first import's rows
        assert len(reg.inventory()) == 8
        first = next(b for b in reg.imports() if b.kind == "inventory")
        assert reg.undo_import(first.id)[1:] == (8, 0) and reg.inventory() == []
        with pytest.raises(KitError, match="already undone"):
            reg.undo_import(first.id)


def test_record_incident_on_an_entry(registry_target):
    with Registry.open(registry_target) as reg:
        e = _add(reg)
        inc = reg.record_incident(entry_id=e.id[:6], stage="gate", note="perplexity +14 %", by="ada")
        assert (inc.entry_id, inc.model_ref, inc.stage, inc.recorded_by) == (e.id, "smollm2-135m", "gate", "ada")
        assert reg.incidents() == [inc]
        with pytest.raises(KitError, match="not one of gate, production"):
            reg.record_incident(entry_id=e.id, stage="staging", note="x")
        with pytest.raises(KitError, match="needs a --note"):
            reg.record_incident(entry_id=e.id, stage="gate", note="  ")
        with pytest.raises(KitError, match="not a real ISO-8601"):
            reg.record_incident(entry_id=e.id, stage="gate", note="x", occurred_at="yesterday")


def test_promotions_are_logged_and_reports_stored_on_entries(registry_target):
    with Registry.open(registry_target) as reg:
        e = _add(reg)
        reg.promote(e.id, stack=STACK, by="ada")
        reg.promote(e.id, stack=STACK, alias="canary", by="bo")
        assert [(p.entry_id, p.alias, p.promoted_by) for p in reg.promotions()] == [(e.id, "champion", "ada"),
                                                                                     (e.id, "canary", "bo")]
        stored = reg.attach_report(entry_ids=[e.id], summary={"schema": "kit.report/1", "decision": {"x": 1}},
                                   path="/r")
        assert reg.reports(e.id) == stored and stored[0].summary["decision"] == {"x": 1}


def test_bad_csv_is_a_one_line_error(tmp_path):
    bad = tmp_path / "inv.csv"
    bad.write_text("model,owner,requests_per_day,criticality\nm,o,lots,low\n")
    with Registry.open(tmp_path / "r.sqlite") as reg:
        with pytest.raises(KitError, match="inv.csv:2: requests_per_day 'lots' is not a whole number"):
            reg.import_inventory(bad)
        bad.write_text("model,owner\nm,o\n")
        with pytest.raises(KitError, match="inv.csv:1: the header lacks column.s. requests_per_day, criticality"):
            reg.import_inventory(bad)
        bad.write_text("model,owner,requests_per_day,criticality\nm,o,5,severe\n")
        with pytest.raises(KitError, match="criticality 'severe' is not one of low, medium, high"):
            reg.import_inventory(bad)
        with pytest.raises(KitError, match="cannot read"):
            reg.import_inventory(tmp_path / "nope.csv")


def test_cli_incident_and_import(tmp_path, capsys):
    target = str(tmp_path / "r.sqlite")
    with Registry.open(target) as reg:
        e = _add(reg)
    assert main(["registry", "incident", e.id, "--stage", "production", "--note", "users saw gibberish",
                 "--registry", target]) == 0
    assert "recorded production incident" in capsys.readouterr().out
    assert main(["registry", "import", "--inventory", f"{EXAMPLES}/inventory.csv", "--incidents",
                 f"{EXAMPLES}/incidents.csv", "--registry", target]) == 0
    assert main(["registry", "incidents", "--stage", "production", "--registry", target]) == 0
    out = capsys.readouterr().out
    assert "users saw gibberish" in out and "ticket ids" in out and "refusal set" not in out
    assert main(["registry", "incident", "nope", "--stage", "gate", "--note", "x", "--registry", target]) == 2
    assert capsys.readouterr().err.startswith("error: no registry entry 'nope'")


def test_old_registry_without_adoption_tables_gains_them_on_first_write(tmp_path):
    path = tmp_path / "r.sqlite"
    with Registry.open(path) as reg:
        e = _add(reg)
    with Registry.open(path) as reg:
        assert reg.incidents() == []
        reg.record_incident(entry_id=e.id, stage="gate", note="x")
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"registry_incidents", "registry_inventory", "registry_promotions", "registry_reports"} <= names
