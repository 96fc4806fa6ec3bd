"""Figures: one labelled point or bar per input, with units on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from kit.teach.plots import accuracy_by_category, accuracy_vs_memory, latency_bars


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_accuracy_vs_memory_plots_the_requested_size():
    rows = [{"method": "baseline", "perplexity": 11.2, "stored_MiB": 513.1, "in_memory_MiB": 513.1},
            {"method": "gptq", "perplexity": 13.4, "stored_MiB": 158.8, "in_memory_MiB": 519.5}]
    ax = accuracy_vs_memory(rows)
    points = [tuple(c.get_offsets()[0]) for c in ax.collections]
    assert points == [(513.1, 11.2), (158.8, 13.4)]
    assert [t.get_text() for t in ax.texts] == ["baseline", "gptq"]
    assert ax.get_xlabel() == "stored weights (MiB)" and "lower is better" in ax.get_ylabel()
    ax = accuracy_vs_memory(rows, size_key="in_memory_MiB", size_label="weights in memory")
    assert ax.collections[1].get_offsets()[0][0] == pytest.approx(519.5)
    assert ax.get_xlabel() == "weights in memory (MiB)"
    with pytest.raises(KeyError):
        accuracy_vs_memory([{"method": "x", "perplexity": 1.0}])


def test_accuracy_by_category_groups_by_id_prefix():
    record = {"model": {"ref": "m"}, "eval_set": {"name": "everyday-mc"},
              "accuracy": {"ids": ["capital-1", "capital-2", "unit-1"], "correct": [1, 0, 1]}}
    ax = accuracy_by_category(record)
    heights = {p.get_x(): p.get_height() for p in ax.patches}
    assert sorted(heights.values()) == [50.0, 100.0]
    assert [t.get_text() for t in ax.texts] == ["n=2", "n=1"]
    assert ax.get_ylabel() == "accuracy (%)"


def test_latency_bars_one_group_per_model():
    recs = [{"model": {"method": m}, "latency": {"prefill_ms": p, "decode_ms_p50": d, "decode_ms_p95": d * 1.2,
                                                  "prompt_tokens": 128}} for m, p, d in [("none", 50, 40), ("gptq", 70, 45)]]
    ax = latency_bars(recs)
    assert len(ax.patches) == 6 and ax.get_ylabel() == "milliseconds"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["none", "gptq"]
    assert "128-token prompt" in ax.get_title()
