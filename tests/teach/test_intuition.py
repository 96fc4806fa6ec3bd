"""Inside one layer: rounding, group sizes, outlier channels and GPTQ, on synthetic tensors (and once on SmolLM2)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from kit.errors import KitError
from kit.teach import intuition as I
from kit.teach.plots import channel_peaks, column_errors, group_size_errors, rounding_histogram


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _weight(out=48, width=96, seed=0):
    return torch.randn(out, width, generator=torch.Generator().manual_seed(seed)) * 0.05


def test_fake_quantize_uses_the_grid_and_moves_weights_by_at_most_half_a_step():
    w = _weight()
    for bits, group in ((8, None), (4, None), (4, 32)):
        q = I.fake_quantize(weight=w, bits=bits, group_size=group)
        qmax = 2 ** (bits - 1) - 1
        size = group or w.shape[1]
        scale = w.reshape(w.shape[0], -1, size).abs().amax(-1, keepdim=True) / qmax
        levels = q.reshape(w.shape[0], -1, size) / scale
        assert torch.allclose(levels, levels.round(), atol=1e-4) and levels.abs().max() <= qmax + 1e-4
        assert ((q - w).reshape(w.shape[0], -1, size).abs() <= scale / 2 + 1e-7).all()
    err8 = I.relative_error(reference=w, approx=I.fake_quantize(weight=w, bits=8))
    err4 = I.relative_error(reference=w, approx=I.fake_quantize(weight=w, bits=4))
    assert err8 < err4 / 5


def test_a_group_size_must_divide_the_width():
    with pytest.raises(KitError, match="does not divide the layer's width 96"):
        I.fake_quantize(weight=_weight(), bits=4, group_size=64)
    rows = I.group_size_table(weight=_weight(width=576), bits=4, group_sizes=[32, 64, 128, 576])
    by = {r["group_size"]: r for r in rows}
    assert by[128]["divides_width"] is False and by[128]["relative_error"] is None and by[128]["groups_per_row"] == 4.5
    assert by[32]["relative_error"] < by[64]["relative_error"] < by[576]["relative_error"]
    assert by[64]["bits_per_weight"] == 4.25


def test_outlier_channels_finds_planted_channels_and_int8_error_drops_without_them():
    x = torch.randn(200, 64, generator=torch.Generator().manual_seed(1))
    x[::10, 5] = 60.0
    x[:, 40] *= 20
    out = I.outlier_channels(inputs=x)
    assert out["outliers"] == [5, 40] and out["share_of_channels"] == 2 / 64
    assert out["share_of_tokens_hit"] == pytest.approx(float(((x[:, 40].abs() > 6) | (x[:, 5].abs() > 6)).float().mean()))
    err = I.int8_matmul_error(inputs=x, weight=_weight(out=32, width=64), outliers=out["outliers"])
    assert err["outliers_in_fp"] < err["all_int8"] / 3


def test_gptq_lowers_output_error_on_its_calibration_inputs_and_stays_on_the_grid():
    gen = torch.Generator().manual_seed(2)
    w = _weight(out=64, width=64)
    mix = torch.randn(64, 64, generator=gen)
    x = torch.randn(512, 64, generator=gen) @ mix  # correlated inputs: where GPTQ's compensation pays
    q = I.gptq_quantize(weight=w, inputs=x, bits=4, group_size=32)
    scale = w.reshape(64, -1, 32).abs().amax(-1).repeat_interleave(32, dim=1) / 7
    assert torch.allclose(q / scale, (q / scale).round(), atol=1e-3)
    effect = I.calibration_effect(weight=w, calib_inputs=x, eval_inputs=torch.randn(256, 64, generator=gen) @ mix,
                                  bits=4, group_size=32, other_calib_inputs=torch.randn(256, 64, generator=gen))
    rows = {r["method"]: r for r in effect["rows"]}
    assert rows["gptq"]["output_error_calibration"] < 0.85 * rows["rtn"]["output_error_calibration"]
    assert rows["gptq"]["output_error_held_out"] < rows["rtn"]["output_error_held_out"]
    assert rows["gptq"]["weight_error"] > rows["rtn"]["weight_error"]
    assert set(effect["column_error"]) == {"rtn", "gptq", "gptq_other_domain"} and len(effect["column_error"]["rtn"]) == 64
    assert 0 < effect["share_not_nearest"] < 1


class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 8)
        self.proj = torch.nn.Linear(8, 4)
        self.after = torch.nn.Linear(4, 4)
        self.calls_after = 0

    @property
    def device(self):
        return torch.device("cpu")

    def forward(self, ids):
        h = self.proj(self.embed(ids))
        self.calls_after += 1
        return self.after(h)


def test_layer_inputs_captures_a_layer_and_stops_there():
    class Loaded:
        model = _Tiny()

    x = I.layer_inputs(loaded=Loaded, name="proj", token_ids=[[1, 2, 3], [4, 5, 6]])
    assert x.shape == (6, 8) and torch.allclose(x[0], Loaded.model.embed.weight[1])
    assert Loaded.model.calls_after == 0  # the model stopped at the layer
    x = I.layer_inputs(loaded=Loaded, name="proj", token_ids=[[1, 2], [3]])  # unequal lengths: one by one
    assert x.shape == (3, 8)
    with pytest.raises(KitError, match="no linear layer named 'nope'"):
        I.layer_inputs(loaded=Loaded, name="nope", token_ids=[[1]])


@pytest.mark.slow
def test_on_smollm2_a_few_channels_cross_the_int8_threshold(smol):
    name = "model.layers.12.self_attn.q_proj"
    ids = I.text_chunks(tokenizer=smol.tokenizer, set_name="stdlib-docs", tokens=256, chunk=128)
    x = I.layer_inputs(loaded=smol, name=name, token_ids=ids)
    assert x.shape == (256, 576)
    out = I.outlier_channels(inputs=x)
    assert 0 < len(out["outliers"]) < 0.05 * 576  # a few channels, not many
    assert I.layer_weight(model=smol.model, name=name).shape == (576, 576)


def test_intuition_plots_draw_what_they_say():
    w = _weight()
    ax = rounding_histogram(w[0], rounded={"4-bit": I.fake_quantize(weight=w, bits=4)[0]})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "original (96 distinct values)" and labels[1].startswith("4-bit (") and "levels used" in labels[1]
    rows = I.group_size_table(weight=_weight(width=96), bits=4, group_sizes=[32, 64, 96])
    ax = group_size_errors(rows)
    assert [t.get_text() for t in ax.texts] == ["g=32", "g=96"]  # 64 does not divide 96: not plotted
    out = I.outlier_channels(inputs=torch.tensor([[1.0, 9.0, 0.5]]))
    ax = channel_peaks(out)
    assert len(ax.collections[0].get_segments()) == 3 and "1 of 3 channels above" in ax.get_legend().get_texts()[0].get_text()
    assert ax.collections[1].get_offsets().tolist() == [[1.0, 9.0]]  # the outlier channel is marked
    ax = column_errors({"column_error": {"rtn": [1.0] * 20, "gptq": [2.0] * 20}}, window=4)
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [17, 17]
