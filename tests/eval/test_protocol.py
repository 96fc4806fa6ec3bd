"""The scoring protocol: bad settings refused with the flag to fix, batch units, the comparability key."""

import pytest

from kit.errors import KitError
from kit.eval import harness
from kit.eval.protocol import BATCH_FACTOR, Protocol


@pytest.mark.parametrize("kwargs, flag", [({"batch_size": 0}, "--batch-size"), ({"latency_repeats": 0}, "--repeats"),
                                          ({"limit": True}, "--limit"), ({"stride": 600}, "--stride"),
                                          ({"looks": (0.5, 0.4, 1.0)}, "looks"), ({"order_seed": "1"}, "order_seed")])
def test_bad_settings_are_refused(kwargs, flag):
    with pytest.raises(KitError, match=flag):
        Protocol(**kwargs)


def test_units_per_batch_follow_the_kind():
    p = Protocol(batch_size=3)
    assert (p.unit("text"), p.unit("generation"), p.unit("multiple_choice")) == (3, 3 * BATCH_FACTOR["generation"], 1)


def test_the_key_names_the_order_only_for_seeded_protocols():
    assert "order" in Protocol().for_kind("text")
    plain = Protocol(order_seed=None).for_kind("multiple_choice")
    assert "order" not in plain and plain["limit"] is None
    assert Protocol(max_tokens=64).for_kind("text") != Protocol().for_kind("text")


def test_the_harness_still_exports_it():
    assert harness.Protocol is Protocol and harness.BATCH_FACTOR is BATCH_FACTOR
