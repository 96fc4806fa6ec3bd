"""Timing helpers: the interpolated percentile and the peak-memory block (CPU)."""

import pytest

from kit.eval.timing import peak_memory, percentile


def test_percentile_interpolates_between_sorted_samples():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 25) == pytest.approx(1.25)
    assert (percentile([5.0], 90), percentile([1.0, 9.0], 100), percentile([1.0, 9.0], 0)) == (5.0, 9.0, 1.0)


def test_peak_memory_fills_the_dict_after_the_block():
    with peak_memory("cpu") as stats:
        assert stats == {}
        block = bytearray(8 << 20)
    assert stats["peak_rss_bytes"] >= len(block)
    assert stats["peak_rss_scope"] in ("this measurement", "process lifetime")
