"""The baseline-record cache: hit, miss, corrupt entries ignored and rewritten, every key field matters."""

import json

import pytest

from kit.eval.cache import RecordCache, record_key
from kit.eval.harness import Protocol

STACK = {"packages": {"torch": "2.5.1"}, "device": "cpu", "gpu": None, "cuda_version": None}


def _key(**changes):
    fields = {"weights_sha256": "a" * 64, "set_sha256": "b" * 64, "protocol": Protocol(max_tokens=512),
              "measure_speed": True, "stack": STACK} | changes
    return record_key(**fields)


@pytest.fixture
def record(make_record):
    return make_record(kind="text", perplexity=12.0)


def test_miss_then_hit_returns_the_stored_record(tmp_path, record):
    cache = RecordCache(tmp_path)
    assert cache.get(_key()) is None
    path = cache.put(_key(), record)
    assert path.parent == tmp_path and not list(tmp_path.glob(".*.tmp"))  # written atomically, no temp left
    assert cache.get(_key()) == json.loads(json.dumps(record))


@pytest.mark.parametrize("change", [
    {"weights_sha256": "c" * 64}, {"set_sha256": "d" * 64}, {"protocol": Protocol(max_tokens=256)},
    {"protocol": Protocol(max_tokens=512, batch_size=8)}, {"measure_speed": False},
    {"protocol": Protocol(max_tokens=512, order_seed=1)}, {"protocol": Protocol(max_tokens=512, looks=(0.5, 1.0))},
    {"protocol": Protocol(max_tokens=512, order_seed=None)},
    {"stack": STACK | {"packages": {"torch": "2.6.0"}}}, {"stack": STACK | {"device": "cuda"}},
])
def test_any_key_field_change_is_a_miss(tmp_path, record, change):
    cache = RecordCache(tmp_path)
    cache.put(_key(), record)
    assert cache.get(_key(**change)) is None
    assert cache.path(_key(**change)) != cache.path(_key())


@pytest.mark.parametrize("content", ["", "{not json", '{"schema": "kit.record-cache/1"}', "[1, 2]", "\xff\xfe"])
def test_a_corrupt_entry_is_ignored_then_rewritten(tmp_path, record, content):
    cache = RecordCache(tmp_path)
    cache.path(_key()).parent.mkdir(parents=True, exist_ok=True)
    cache.path(_key()).write_text(content, encoding="latin-1")
    assert cache.get(_key()) is None
    cache.put(_key(), record)
    assert cache.get(_key())["accuracy"] == record["accuracy"]


def test_an_entry_whose_stored_key_differs_is_not_trusted(tmp_path, record):
    cache = RecordCache(tmp_path)
    path = cache.put(_key(), record)
    entry = json.loads(path.read_text())
    entry["key"]["weights_sha256"] = "e" * 64  # e.g. a file copied under the wrong name
    path.write_text(json.dumps(entry))
    assert cache.get(_key()) is None


def test_the_default_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_RECORD_CACHE", str(tmp_path / "rc"))
    assert RecordCache().root == tmp_path / "rc"
    monkeypatch.delenv("KIT_RECORD_CACHE")
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "kc"))
    assert RecordCache().root == tmp_path / "kc" / "records"


def test_evaluate_sets_reuses_a_baselines_cached_records_and_never_caches_candidates(tmp_path, monkeypatch):
    """A baseline evaluated once (e.g. in notebook 01) is read back by the next call with the same sets and protocol."""
    import types

    import kit.govern.pilot as pilot
    from kit.eval.cache import RecordCache
    from kit.eval.harness import Protocol
    from kit.eval.record import SCHEMA

    calls = []

    def fake_evaluate(*, model, eval_set, baseline, protocol, measure_speed, progress):
        calls.append((eval_set, measure_speed, baseline is None))
        return {"schema": SCHEMA, "eval_set": {"name": eval_set}, "speed": measure_speed}

    monkeypatch.setattr(pilot, "evaluate", fake_evaluate)
    model = types.SimpleNamespace(sha256="a" * 64, device="cpu")
    sets = [("stdlib-docs", Protocol(max_tokens=64)), ("everyday-mc", Protocol(limit=4))]
    cache = RecordCache(tmp_path)
    first = pilot.evaluate_sets(model=model, baseline=None, sets=sets, measure_speed=True, progress=False, cache=cache)
    assert calls == [("stdlib-docs", True, True), ("everyday-mc", False, True)]
    again = pilot.evaluate_sets(model=model, baseline=None, sets=sets, measure_speed=True, progress=False, cache=cache)
    assert again == first and len(calls) == 2  # both from the cache
    other = [("stdlib-docs", Protocol(max_tokens=128)), sets[1]]  # another protocol on the text set: a miss there only
    pilot.evaluate_sets(model=model, baseline=None, sets=other, measure_speed=True, progress=False, cache=cache)
    assert calls[2:] == [("stdlib-docs", True, True)]
    pilot.evaluate_sets(model=model, baseline=model, sets=sets, measure_speed=True, progress=False, cache=cache)
    assert len(calls) == 5  # a candidate (scored against a baseline) is always evaluated
    pilot.evaluate_sets(model=model, baseline=None, sets=sets, measure_speed=True, progress=False, cache=False)
    assert len(calls) == 7
