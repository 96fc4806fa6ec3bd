"""quantize's loose keywords: the QuantSpec fields, routed through one place; both spellings at once refused."""

import pytest

from kit.errors import KitError
from kit.quant.quantize import SPEC_FIELDS, _spec
from kit.quant.spec import QuantSpec


def test_loose_fields_build_the_same_spec_as_quantspec_build():
    loose = {"method": "rtn", "bits": 4, "group_size": 32, "samples": 8, "seq_len": 64, "ignore": ["lm_head"]}
    assert _spec(None, loose) == QuantSpec.build(**loose)
    assert set(SPEC_FIELDS) >= set(loose) and "device" not in SPEC_FIELDS


def test_spec_and_loose_fields_together_or_unknown_names_are_refused():
    with pytest.raises(KitError, match="either spec= or bits="):
        _spec(QuantSpec.of("rtn"), {"bits": 4})
    assert _spec(QuantSpec.of("rtn"), {"bits": None}) == QuantSpec.of("rtn")
    with pytest.raises(KitError, match="needs a method"):
        _spec(None, {"bits": 4})
    with pytest.raises(TypeError, match="group"):
        _spec(None, {"method": "rtn", "group": 32})
