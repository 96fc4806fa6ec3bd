"""How a record names its engine: old records are the reference engine; unknown names are refused."""

import pytest

from kit.engines import DEFAULT_ENGINE, ENGINES, EngineInfo, engine_of
from kit.errors import KitError


def test_a_record_without_an_engine_is_the_reference_engine():
    assert engine_of({"ref": "smollm2-135m"}) == EngineInfo(name="reference")
    assert engine_of(None).name == DEFAULT_ENGINE == "reference"


def test_engine_round_trips_through_json_data():
    info = EngineInfo(name="packed", backend="torchao", activations="bfloat16")
    assert engine_of({"engine": info.to_dict()}) == info
    assert engine_of({"engine": "packed"}).name == "packed"
    assert info.label() == "packed (torchao, bfloat16)"


def test_unknown_engine_is_refused_with_the_known_names():
    with pytest.raises(KitError, match="unknown engine 'vllm'; use one of " + ", ".join(ENGINES)):
        engine_of({"engine": {"name": "vllm"}})
    with pytest.raises(KitError, match="must be a name or a mapping"):
        engine_of({"engine": 3})
