"""Property tests (hypothesis) of the file readers: any bytes in → a KitError or a valid object out, never another exception.

Covered: the eval-set reader (:func:`kit.eval.sets.load_set`), the policy reader
(:func:`kit.govern.policy.load_policies`) and the record reader (``kit gate``'s
``kit.eval.record_files.read_records`` → :meth:`kit.eval.record.EvalRecord.from_dict`). Each reader gets raw bytes
and, because random bytes rarely get past the first check, also near-valid files: valid
content with one value replaced, a key dropped or a key added.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.errors import KitError

REPO = Path(__file__).resolve().parents[1]
# Locally every run draws new examples (a failure is replayed from .hypothesis/); in CI (`CI` set, as
# .ci/run does) the draw is fixed, so whether a change lands never hinges on a lucky draw.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=bool(os.environ.get("CI")),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
yaml_values = json_values | st.dates() | st.floats()  # YAML adds dates, NaN and infinities


_ROOT = tempfile.TemporaryDirectory(prefix="kit-prop-")  # hypothesis writes hundreds: removed at exit


def _write(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(dir=_ROOT.name))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into nested dicts/lists (the places a mutation can hit)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw: Any, valid: Any, values: Any = json_values) -> Any:
    """``valid`` with one to three mutations: a value replaced, a key dropped or a key added."""
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        where = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "drop", "add"]))
        if not where:
            data = draw(values) if op == "replace" else data
            continue
        parent = data
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        if op == "replace":
            parent[last] = draw(values)
        elif op == "drop" and isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | st.integers())] = draw(values)
    return data


# --- the eval-set reader ------------------------------------------------------------------------

_SET_RECORDS = {
    "text": {"id": "t1", "text": "Some documentation text."},
    "multiple_choice": {"id": "m1", "prompt": "Pick one", "choices": ["a", "b", "c"], "answer": 1},
    "generation": {"id": "g1", "prompt": "Capital of France?", "reference": "Paris", "aliases": ["paris"]},
}


def _check_set(path: Path) -> None:
    from kit.eval.sets import KINDS, load_set

    try:
        s = load_set(path)
    except KitError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert s.kind in KINDS and s.items and len(s.sha256) == 64
    if s.kind == "generation":
        assert all(isinstance(a, str) for item in s.items for a in item.get("aliases", []))


@SETTINGS
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".jsonl", ".txt"]))
def test_eval_set_reader_on_any_bytes(data, suffix):
    _check_set(_write(data, suffix))


@SETTINGS
@given(lines=st.lists(st.sampled_from(sorted(_SET_RECORDS)).flatmap(lambda k: mutated(_SET_RECORDS[k])),
                      min_size=1, max_size=4))
def test_eval_set_reader_on_near_valid_records(lines):
    _check_set(_write("\n".join(json.dumps(line) for line in lines).encode(), ".jsonl"))


# --- the policy reader --------------------------------------------------------------------------

_POLICY = yaml.safe_load((REPO / "policies" / "tolerances.yaml").read_text(encoding="utf-8"))


def _check_policy(path: Path) -> None:
    from kit.govern.policy import UseCasePolicy, load_policies

    try:
        policies = load_policies(path=path)
    except KitError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert policies and all(isinstance(p, UseCasePolicy) for p in policies.values())


@SETTINGS
@given(data=st.binary(max_size=600))
def test_policy_reader_on_any_bytes(data):
    _check_policy(_write(data, ".yaml"))


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("version:1 use_cases\n-[]{}'\"&*!|>#.?,0")), max_size=200))
def test_policy_reader_on_yamlish_text(text):
    _check_policy(_write(text.encode(), ".yaml"))


@SETTINGS
@given(policy=mutated(_POLICY, yaml_values))
def test_policy_reader_on_near_valid_policies(policy):
    _check_policy(_write(yaml.safe_dump(policy, allow_unicode=True).encode(), ".yaml"))


# --- the record reader --------------------------------------------------------------------------


def _check_records(path: Path) -> None:
    from kit.eval.record import EvalRecord
    from kit.eval.record_files import read_records

    try:
        records = read_records([path])
    except KitError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert records and all(isinstance(EvalRecord.from_dict(r), EvalRecord) for r in records)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_record_reader_on_any_bytes(data):
    _check_records(_write(data, ".json"))


@SETTINGS
@given(data=st.data(), as_list=st.booleans())
def test_record_reader_on_near_valid_records(data, as_list, make_record):
    kind = data.draw(st.sampled_from(["text", "multiple_choice", "generation"]))
    record = data.draw(mutated(make_record(kind=kind, correct=[1, 0, 1, 1], top1=0.9, kl=0.1)))
    _check_records(_write(json.dumps([record] if as_list else record).encode(), ".json"))


@pytest.fixture(autouse=True)
def _clean_tmp(monkeypatch, tmp_path):
    """Keep the readers' temp files under this test's tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
