"""The registry on SQLite and PostgreSQL: entries, validations, promotion, staleness, concurrency, damage."""

import multiprocessing as mp
import os
import sqlite3

import pytest
from helpers import PERPLEXITY_POLICY, STACK, synthetic_record

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import gate
from kit.govern.registry import Registry, stack_changes

Q = "q" * 64
POLICY, CURRENT = PERPLEXITY_POLICY, STACK


def _records(*, ppl=12.0, torch_version="2.13.0+cpu", sha=Q):
    base = [synthetic_record(torch_version=torch_version)]
    cand = [synthetic_record(sha=sha, perplexity=ppl, method="bnb-int8", bits=8, torch_version=torch_version)]
    return base, cand


def _add(reg, **kwargs):
    base, cand = _records(**kwargs)
    return reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=POLICY),
                   quant_config={"method": "bnb-int8", "bits": 8}, volume_per_day=5000)


def _verdict(**kwargs):
    base, cand = _records(**kwargs)
    return gate(baseline=base, candidate=cand, policy=POLICY)


def test_add_get_list_find(registry_target, monkeypatch):
    monkeypatch.setenv("USER", "ada")
    with Registry.open(registry_target) as reg:
        e = _add(reg)
        assert (e.method, e.bits, e.use_case, e.owner, e.volume_per_day, e.passed) == ("bnb-int8", 8, "chat-assistant",
                                                                                       "ada", 5000, True)
        assert (e.baseline_ref, e.model_sha256) == ("smollm2-135m", Q)
        assert e.quant_config == {"method": "bnb-int8", "bits": 8} and e.stack == CURRENT
        assert e.evals["candidate"][0]["accuracy"]["perplexity"] == 12.0 and e.verdict["decision"] == "pass"
        assert reg.get(e.id[:6]) == e and reg.list() == [e] and reg.list(use_case="code-completion") == []
        assert reg.find("smollm2-135m") == [e] and reg.find(Q) == [e] and reg.find("other") == []
        assert [v.kind for v in reg.validations(e.id)] == ["register"]
        with pytest.raises(KitError, match="no registry entry 'zzz'.*kit registry list"):
            reg.get("zzz")


def test_promote_needs_latest_validation_passing_on_current_stack(registry_target):
    with Registry.open(registry_target) as reg:
        failing = _add(reg, ppl=14.0)
        assert not failing.passed
        with pytest.raises(KitError, match="failed its latest validation"):
            reg.promote(failing.id, stack=CURRENT)
        reg.record_validation(entry_id=failing.id, verdict=_verdict(ppl=12.0))
        assert reg.promote(failing.id, stack=CURRENT).aliases == ("champion",)
        reg.record_validation(entry_id=failing.id, verdict=_verdict(ppl=15.0))  # the latest one counts
        with pytest.raises(KitError, match="failed its latest validation"):
            reg.promote(failing.id, stack=CURRENT)
        other = _add(reg, ppl=11.9, sha="e" * 64)
        with pytest.raises(KitError, match=r"another stack \(torch 2.13.0\+cpu → 2.14.0\)"):
            reg.promote(other.id, stack=CURRENT | {"packages": {"torch": "2.14.0", "transformers": "5.17.0"}})
        assert reg.promote(other.id, stack=CURRENT).aliases == ("champion",)
        assert reg.get(failing.id).aliases == ()  # the alias moved
        assert len(reg.validations(failing.id)) == 3


def test_stale_lists_changed_runtime_and_a_new_validation_refreshes(registry_target):
    with Registry.open(registry_target) as reg:
        old = _add(reg, torch_version="2.12.0+cpu")
        fresh = _add(reg, sha="f" * 64)
        assert [e.id for e in reg.stale(CURRENT)] == [old.id]
        assert stack_changes(recorded=old.stack, current=CURRENT) == ["torch 2.12.0+cpu → 2.13.0+cpu"]
        assert stack_changes(recorded=CURRENT, current=CURRENT | {"device": "cuda", "gpu": "H100"}) == [
            "device cpu → cuda", "gpu None → H100"]
        reg.record_validation(entry_id=old.id, verdict=_verdict(), evals={"baseline": [], "candidate": []})
        assert reg.stale(CURRENT) == [] and fresh.id in {e.id for e in reg.list()}
        assert [v.stack["packages"]["torch"] for v in reg.validations(old.id)] == ["2.12.0+cpu", "2.13.0+cpu"]


def test_cpu_capability_and_engine_changes_mark_stale_but_their_arrival_does_not(registry_target):
    """Migration: a field one fingerprint does not state is unknown, not a change (the comparison: test_stack.py)."""
    old_entry = {k: v for k, v in CURRENT.items() if k not in ("cpu_capability", "engine")}  # before the fields
    avx2 = CURRENT | {"cpu_capability": "AVX2"}
    with Registry.open(registry_target) as reg:
        e = _add(reg)
        reg.record_validation(entry_id=e.id, verdict=_verdict(), stack=old_entry)  # as written before the fields
        assert reg.stale(avx2) == []
        reg.record_validation(entry_id=e.id, verdict=_verdict(), stack=avx2)
        assert [x.id for x in reg.stale(avx2 | {"cpu_capability": "AVX512"})] == [e.id] and reg.stale(avx2) == []


def _writer(target, verdict, n):
    base, cand = _records()
    with Registry.open(target, timeout=60) as reg:
        for _ in range(n):
            reg.add(baseline=base, candidate=cand, verdict=verdict)


def test_concurrent_writers_lose_nothing(registry_target):
    verdict = _verdict().to_dict()  # no pre-created schema: the writers race to create it too
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(registry_target, verdict, 100)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    assert [p.exitcode for p in procs] == [0] * 8
    with Registry.open(registry_target) as reg:
        entries = reg.list()
        assert len(entries) == 800 and len({e.id for e in entries}) == 800
        assert len(reg.latest_validations()) == 800


def test_corrupt_file_is_an_error_not_a_reset(tmp_path):
    path = tmp_path / "registry.sqlite"
    junk = os.urandom(8192)
    path.write_bytes(junk)
    with pytest.raises(KitError, match="not a readable kit registry.*left untouched"):
        Registry.open(path)
    assert path.read_bytes() == junk
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(KitError, match="not a kit registry"):
        Registry.open(other)
    with pytest.raises(KitError, match="is a folder"):
        Registry.open(tmp_path)


def test_locked_registry_is_a_clear_error(registry_target):
    with Registry.open(registry_target) as reg:
        _add(reg)
    if registry_target.startswith("postgresql"):
        import psycopg

        holder = psycopg.connect(registry_target)  # a transaction is open until rollback
        holder.execute("LOCK TABLE registry_entries IN ACCESS EXCLUSIVE MODE")
    else:
        holder = sqlite3.connect(registry_target, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(KitError, match="locked by another"), Registry.open(registry_target, timeout=0.3) as reg:
            _add(reg)
    finally:
        holder.rollback()
        holder.close()
    with Registry.open(registry_target) as reg:
        assert len(reg.list()) == 1


def test_default_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("KIT_REGISTRY_URL", raising=False)
    monkeypatch.setenv("KIT_REGISTRY", str(tmp_path / "env.sqlite"))
    with Registry.open() as reg:
        assert reg.location == str(tmp_path / "env.sqlite")
    monkeypatch.setenv("KIT_REGISTRY_URL", "mysql://nope")
    with pytest.raises(KitError, match="must be a postgresql:// URL"):
        Registry.open()


def test_cli_registry_verbs(tmp_path, monkeypatch, capsys):
    path = str(tmp_path / "cli.sqlite")
    monkeypatch.delenv("KIT_REGISTRY_URL", raising=False)
    monkeypatch.setenv("KIT_REGISTRY", path)
    with Registry.open(path) as reg:
        e = _add(reg, torch_version="2.0.0")
    assert main(["registry", "list"]) == 0
    assert e.id in capsys.readouterr().out
    assert main(["registry", "find", "smollm2-135m"]) == 0
    assert "smollm2-135m is already quantized with bnb-int8 8-bit" in capsys.readouterr().out
    assert main(["registry", "show", e.id[:5], "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert "gate chat-assistant: PASS" in out and "history:" in out
    assert main(["registry", "stale"]) == 0  # the synthetic stack's torch is not this machine's
    assert f"{e.id} (bnb-int8, chat-assistant): torch 2.0.0 →" in capsys.readouterr().out
    assert main(["registry", "promote", e.id]) == 2
    assert "last validated on another stack" in capsys.readouterr().err


def test_cli_revalidate_reports_each_broken_entry_and_goes_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("kit.models.hub_offline", lambda: False)  # the synthetic refs (runs/bnb-int8) read as hub ids
    path = str(tmp_path / "r.sqlite")
    with Registry.open(path) as reg:
        ids = [_add(reg).id, _add(reg, sha="e" * 64).id]
    assert main(["revalidate", "--all", "--registry", path]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("error: eval set 'stdlib-docs' changed since registration") == 2  # synthetic sha
    assert "revalidated 0 of 2 entries" in captured.out
    assert main(["revalidate", ids[0], "--registry", path]) == 2
    base, cand = _records()
    cand[0]["model"]["ref"] = str(tmp_path / "deleted-artifact")
    with Registry.open(path) as reg:
        gone = reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=POLICY))
    assert main(["revalidate", gone.id, "--registry", path]) == 2
    assert f"the model of entry {gone.id} is gone" in capsys.readouterr().err
    assert main(["revalidate", "--registry", path]) == 2
    assert "give exactly one of: an entry ID, --all, --stale" in capsys.readouterr().err


@pytest.mark.slow
def test_revalidate_refreshes_a_stale_entry(smol, tmp_path, capsys):
    from kit.eval.harness import Protocol, evaluate
    from kit.govern.policy import get_policy
    from kit.govern.registry import current_stack
    from kit.govern.revalidate import revalidate

    policies = tmp_path / "p.yaml"
    policies.write_text("version: 1\nuse_cases:\n  t:\n    description: tiny\n    default_method: rtn\n"
                        "    eval_sets: [stdlib-docs, everyday-mc]\n    metrics:\n"
                        "      perplexity: {eval_set: stdlib-docs, direction: lower, limit: {kind: relative, value: 0.1},"
                        " min_samples: 100}\n      accuracy: {eval_set: everyday-mc, direction: higher, limit: "
                        "{kind: absolute, value: 0.3}, min_samples: 12}\n")
    protocol = Protocol(context_length=128, max_tokens=257, limit=12)
    records = [evaluate(model=smol, eval_set=s, baseline=smol, protocol=protocol, measure_speed=False, progress=False)
               for s in ("stdlib-docs", "everyday-mc")]
    for r in records:  # as if registered under an older torch
        r["environment"]["packages"]["torch"] = "2.0.0"
    verdict = gate(baseline=records, candidate=records, policy=get_policy("t", path=policies))
    now = current_stack(device="cpu")
    with Registry.open(tmp_path / "r.sqlite") as reg:
        entry = reg.add(baseline=records, candidate=records, verdict=verdict)
        assert [e.id for e in reg.stale(now)] == [entry.id]
        result = revalidate(registry=reg, entry_id=entry.id, policies=policies, device="cpu", progress=False)
        assert result["passed"] and result["regressions"] == [] and not result["policy_changed"]
        assert any(c.startswith("torch 2.0.0 →") for c in result["stack_changes"])
        assert reg.stale(now) == []
        history = reg.validations(entry.id)
        assert [v.kind for v in history] == ["register", "revalidate"]
        assert history[-1].stack == now | {"engine": records[0]["model"]["engine"]}  # the engine the records name
        assert history[-1].stack["engine"] == {"name": "reference", "backend": "torch", "activations": "float32"}
        assert history[-1].evals["candidate"][0]["protocol"] == records[0]["protocol"]
        assert reg.promote(entry.id, stack=now).aliases == ("champion",)
    assert "[revalidate]" in capsys.readouterr().out


def test_reusable_entry_is_the_newest_pass_for_the_method_and_use_case_on_this_stack(registry_target):
    from kit.govern.reuse import reusable_entry

    with Registry.open(registry_target) as reg:
        assert reusable_entry(reg, model="smollm2-135m", method="bnb-int8", use_case="chat-assistant",
                              stack=CURRENT) is None
        failing = _add(reg, ppl=14.0)
        old_stack = _add(reg, torch_version="2.12.0+cpu", sha="e" * 64)
        assert reusable_entry(reg, model="smollm2-135m", method="bnb-int8", use_case="chat-assistant",
                              stack=CURRENT) is None  # one failed, the other passed on another stack
        good = _add(reg, sha="f" * 64)
        found = reusable_entry(reg, model="smollm2-135m", method="bnb-int8", use_case="chat-assistant", stack=CURRENT)
        assert found is not None and found.id == good.id
        for other in ({"method": "gptq"}, {"use_case": "code-completion"}, {"model": "another-model"}):
            args = {"model": "smollm2-135m", "method": "bnb-int8", "use_case": "chat-assistant"} | other
            assert reusable_entry(reg, **args, stack=CURRENT) is None
        reg.record_validation(entry_id=good.id, verdict=_verdict(ppl=15.0))  # its latest gate failed
        reg.record_validation(entry_id=old_stack.id, verdict=_verdict())  # re-validated here: reusable again
        found = reusable_entry(reg, model="smollm2-135m", method="bnb-int8", use_case="chat-assistant", stack=CURRENT)
        assert found is not None and found.id == old_stack.id and failing.id != found.id
