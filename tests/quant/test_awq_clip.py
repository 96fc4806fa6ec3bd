"""AWQ's clipping search: it lowers a real layer's output error, its error formula, and the run that logs it."""

import pytest
import torch
from compressed_tensors.quantization import QuantizationArgs

from kit.quant.methods.awq_clip import CLIP_GRID, _fake_quantize, best_clip, clip_weight, group_output_error
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec, QuantSpec


def _args(group_size: int | None) -> QuantizationArgs:
    strategy = "group" if group_size else "channel"
    return QuantizationArgs(num_bits=4, type="int", symmetric=False, strategy=strategy, group_size=group_size)


@pytest.fixture(scope="module")
def real_layer(tiny_baseline):
    """Layer 0's down_proj of the real model and its inputs on two calibration chunks of 64 tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kit.quant.calibration import calibration_chunks

    model = AutoModelForCausalLM.from_pretrained(tiny_baseline, dtype=torch.float32, use_safetensors=True).eval()
    cal = calibration_chunks(name="stdlib-docs-calib", tokenizer=AutoTokenizer.from_pretrained(tiny_baseline),
                             samples=2, seq_len=64, seed=0)
    layer, seen = model.model.layers[0].mlp.down_proj, []
    handle = layer.register_forward_pre_hook(lambda _m, args: seen.append(args[0].reshape(-1, args[0].shape[-1])))
    with torch.no_grad():
        model(torch.tensor(cal.chunks))
    handle.remove()
    return layer.weight.detach().clone(), torch.cat(seen)


def _output_error(weight, quantized, x):
    return float((x @ (quantized - weight).T).pow(2).mean())


@pytest.mark.parametrize("group_size", [32, 64, None])
def test_clipping_lowers_the_real_layers_output_error(real_layer, group_size):
    weight, x = real_layer
    args = _args(group_size)
    groups = weight.shape[1] // group_size if group_size else 1
    plain = _fake_quantize(weight, args=args, groups=groups)
    limit = best_clip(weight=weight, inputs=x, args=args)
    clipped = _fake_quantize(clip_weight(weight, limit), args=args, groups=groups)
    top = weight.abs().reshape(weight.shape[0], groups, -1).amax(-1)
    ratios = limit / top
    assert ratios.max() <= 1 + 1e-6 and ratios.min() >= min(CLIP_GRID.ratios) - 1e-6
    assert (ratios < 1 - 1e-6).any()  # some groups are clipped
    before, after = _output_error(weight, plain, x), _output_error(weight, clipped, x)
    assert after < 0.97 * before, (before, after)


def test_group_error_is_the_groups_share_of_the_output_either_way():
    """The Gram-matrix form (narrow groups) and the direct form (wide groups) both equal the explicit error."""
    g = torch.Generator().manual_seed(0)
    w, x = torch.randn(6, 48, generator=g), torch.randn(20, 48, generator=g)
    q = w + 0.1 * torch.randn(3, 6, 48, generator=g)
    for groups in (4, 1):  # size 12 ≤ 20 tokens: Gram; size 48 > 20: direct
        size = 48 // groups
        explicit = torch.stack([(x[:, i * size:(i + 1) * size] @ (q - w)[..., i * size:(i + 1) * size].transpose(-1, -2)
                                 ).pow(2).mean(-2) for i in range(groups)], dim=-1)
        got = group_output_error(weight=w, quantized=q, inputs=x, groups=groups)
        assert torch.allclose(got, explicit, rtol=1e-4, atol=1e-5)


def test_awq_with_clip_logs_its_grid_and_what_it_chose(tiny_baseline, tmp_path):
    q = quantize(model=str(tiny_baseline), out=tmp_path / "awq-clip", device="cpu", progress=False,
                 spec=QuantSpec(method="awq", calibration=CalibrationSpec(samples=4, seq_len=64)))  # sanctioned: clip on
    tuning = q.config["tuning"]
    assert tuning["clip"]["ratios"] == [round(r, 4) for r in CLIP_GRID.ratios] and tuning["clip"]["tokens"] == 512
    assert tuning["clip"]["search_samples"] == 16 and tuning["clip"]["skip"] == ["q_proj", "k_proj"]
    measured = tuning["measured"]
    assert measured["clipped_layers"] == 10  # v, o, gate, up, down × 2 blocks (q and k are not clipped)
    assert 0 < measured["tokens_per_layer"] <= 4 * 64 and measured["mean_ratio"] < 1
    assert q.config["scheme"]["deviation_from_sanctioned"] == {}
