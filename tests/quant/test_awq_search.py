"""AWQ's grid search on a spread subset of the calibration batches: which batches, and that it really runs on them."""

import pytest

from kit.quant.methods.awq_search import search_batches
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec, QuantSpec


@pytest.mark.parametrize(("batches", "size", "samples", "expected"), [
    (8, 8, None, list(range(8))),  # None: every batch
    (8, 8, 16, [0, 4]),  # two whole batches, spread over the calibration
    (8, 8, 17, [0, 2, 5]),  # rounded up to whole batches
    (8, 8, 1, [0]),
    (8, 8, 1000, list(range(8))),  # more than there are: all
    (1, 8, 4, [0]),  # fewer samples than one batch
    (0, 8, 4, []),
])
def test_search_batches(batches, size, samples, expected):
    assert search_batches(batches=batches, batch_size=size, search_samples=samples) == expected


def test_grid_search_runs_the_parents_on_the_subset_only(tiny_baseline, tmp_path, monkeypatch):
    """A real AWQ run (2-layer cut, 16 chunks = 2 batches of 8): with search_samples=8 every parent sees 1 batch."""
    from llmcompressor.pipelines.cache import IntermediatesCache

    seen: list[int] = []
    original = IntermediatesCache.fetch

    def counting_fetch(self, batch_index, input_names=None):
        seen.append(batch_index)
        return original(self, batch_index, input_names)

    monkeypatch.setattr(IntermediatesCache, "fetch", counting_fetch)
    cal = CalibrationSpec(samples=16, seq_len=32)

    def fetched(samples):
        seen.clear()
        quantize(model=str(tiny_baseline), out=tmp_path / f"awq-{samples}", device="cpu", progress=False,
                 spec=QuantSpec(method="awq", calibration=cal, scheme=(("search_samples", samples),)))
        return list(seen)

    everything, subset = fetched(None), fetched(8)
    assert everything.count(1) > 0  # without a cap the grid search reads the second batch too
    # The sequential pipeline itself fetches both batches once per layer; the grid search adds only batch 0.
    assert subset.count(1) < everything.count(1) and subset.count(0) > 2 * subset.count(1)
