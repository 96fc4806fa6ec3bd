"""The packed engine: a real artifact's own codes on the packed kernels, checked against compressed-tensors' dequantize."""

from __future__ import annotations

import pytest
import torch
from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
from helpers import scratch
from safetensors.torch import load_file

from kit.engines import engine_of
from kit.errors import KitError
from kit.eval.harness import Protocol, evaluate
from kit.models import load_model
from kit.quant.quantize import quantize
from kit.serving import Int4Linear, Int8Linear, check_servable, packed_engine

SMALL = {"samples": 4, "seq_len": 64, "device": "cpu", "progress": False}


@pytest.fixture(scope="module")
def artifacts(tiny_baseline, tmp_path_factory):
    """RTN int4 (asymmetric, group 64) and rtn-int8 (symmetric per channel) of the 2-layer model, saved."""
    with scratch(tmp_path_factory, "serving") as root:
        yield {m: quantize(model=str(tiny_baseline), method=m, out=root / m, **SMALL).path for m in ("rtn", "rtn-int8")}


@pytest.fixture(scope="module")
def int4(artifacts):
    """(packed model, dequantized reference model, the artifact's tensors) for the int4 artifact."""
    return (load_model(str(artifacts["rtn"]), engine="packed"), _reference(artifacts["rtn"]),
            load_file(str(artifacts["rtn"] / "model.safetensors")))


def _reference(path):
    """The artifact on the reference engine, after one forward (compressed-tensors decompresses on first use)."""
    loaded = load_model(str(path), device="cpu")
    with torch.inference_mode():
        loaded.model(torch.tensor([[1, 2, 3]]))
    return loaded


def _packed(model, kind):
    return {n: m for n, m in model.named_modules() if isinstance(m, kind)}


def _bf16_close(actual, expected, *, terms):
    """|actual − expected| ≤ 2⁻⁸·terms elementwise: each bf16 rounding moves a value by at most 2⁻⁹ of itself."""
    return bool(((actual.float() - expected.float()).abs() <= 2.0 ** -8 * terms + 1e-12).all())


def test_int4_codes_are_the_artifacts_codes_bit_for_bit(int4):
    packed, _, tensors = int4
    layers = _packed(packed.model, Int4Linear)
    assert len(layers) == 14  # 7 projections × 2 layers; lm_head stays unquantized
    for name, layer in layers.items():
        shape = torch.Size(tensors[f"{name}.weight_shape"].tolist())
        stored = unpack_from_int32(tensors[f"{name}.weight_packed"], 4, shape).to(torch.int16) + 8  # the nibble
        assert torch.equal(layer.read_back(raw_codes=True), stored), name


def test_int4_scales_and_zeros_equal_after_the_stated_conversion(int4):
    packed, _, tensors = int4
    for name, layer in _packed(packed.model, Int4Linear).items():
        scale = tensors[f"{name}.weight_scale"]
        zp = unpack_from_int32(tensors[f"{name}.weight_zero_point"], 4, torch.Size(scale.shape), packed_dim=0)
        stored_zp = zp.float() + 8  # compressed-tensors' stored (unsigned) zero point
        assert torch.equal(layer.scale_zeros[..., 0].t(), scale.to(torch.bfloat16)), name
        assert torch.equal(layer.scale_zeros[..., 1].t(), ((8 - stored_zp) * scale).to(torch.bfloat16)), name


def test_int4_weights_and_outputs_match_compressed_tensors_dequantize(int4):
    packed, reference, _ = int4
    ref_layers = dict(reference.model.named_modules())
    x = torch.randn(3, 576, generator=torch.Generator().manual_seed(0))
    for name, layer in _packed(packed.model, Int4Linear).items():
        w = ref_layers[name].weight  # compressed-tensors' own dequantize, float32
        scale, zero = (layer.scale_zeros[..., i].t().float().repeat_interleave(layer.group_size, 1) for i in (0, 1))
        # (code − 8)·scale + zero: scale, zero and the result each rounded to bf16 (|code − 8| ≤ 8). A flipped
        # sign or a wrong offset is off by 2·|zero| or 8·scale, far outside this.
        assert _bf16_close(layer.read_back(), w, terms=8 * scale + zero.abs() + w.abs()), name
        if layer.in_features == x.shape[1]:
            expected = x.to(torch.bfloat16).float() @ w.t()
            got = layer(x).float()
            assert (got - expected).abs().max() <= 0.02 * expected.abs().max(), name


def test_int4_resident_bytes_are_packed(int4, tiny_baseline):
    packed, reference, _ = int4
    int4_bytes = sum(b.numel() * b.element_size() for m in _packed(packed.model, Int4Linear).values() for b in m.buffers())
    fp32_bytes = sum(m.weight.numel() * 4 for n, m in reference.model.named_modules()
                     if isinstance(m, torch.nn.Linear) and n != "lm_head")
    assert int4_bytes <= 0.4 * fp32_bytes
    assert packed.weight_bytes() == sum(t.numel() * t.element_size() for t in [*packed.model.parameters(),
                                                                               *packed.model.buffers()])
    # The whole 2-layer cut is mostly its (tied) embedding, kept in bf16: half its fp32 bytes, plus packed layers.
    assert packed.weight_bytes() < 0.5 * reference.weight_bytes()
    assert not any(p.dtype == torch.float32 for p in packed.model.parameters())  # no fp32 copy kept
    assert packed.rss_after_load_bytes > packed.weight_bytes()


def test_int8_artifact_round_trips(artifacts):
    packed = load_model(str(artifacts["rtn-int8"]), engine="packed")
    reference = _reference(artifacts["rtn-int8"])
    tensors = load_file(str(artifacts["rtn-int8"] / "model.safetensors"))
    ref_layers = dict(reference.model.named_modules())
    layers = _packed(packed.model, Int8Linear)
    assert len(layers) == 14 and not _packed(packed.model, Int4Linear)
    x = torch.randn(2, 576, generator=torch.Generator().manual_seed(1))
    for name, layer in layers.items():
        shape = torch.Size(tensors[f"{name}.weight_shape"].tolist())
        assert torch.equal(layer.codes, unpack_from_int32(tensors[f"{name}.weight_packed"], 8, shape)), name
        assert torch.equal(layer.scales, tensors[f"{name}.weight_scale"].reshape(-1).to(torch.bfloat16)), name
        w = ref_layers[name].weight
        assert _bf16_close(layer.codes.float() * layer.scales.float()[:, None], w, terms=w.abs()), name
        if layer.in_features == x.shape[1]:
            expected = x.to(torch.bfloat16).float() @ w.t()
            assert (layer(x).float() - expected).abs().max() <= 0.02 * expected.abs().max(), name


def test_the_record_names_the_engine(int4):
    packed, reference, _ = int4
    protocol = Protocol(max_tokens=128, context_length=64)
    rec = evaluate(model=packed, eval_set="stdlib-docs", baseline=reference, protocol=protocol, measure_speed=False,
                   progress=False)
    assert rec["model"]["engine"] == packed_engine().to_dict() == {"name": "packed", "backend": "torch",
                                                                   "activations": "bfloat16"}
    assert rec["model"]["served"]["int4_modules"] == 14
    assert rec["memory"]["weight_bytes"] == packed.weight_bytes() and rec["memory"]["rss_after_load_bytes"] > 0
    assert rec["agreement"]["top1"] > 0.8  # bf16 activations move the numbers a little, not much
    ref_rec = evaluate(model=reference, eval_set="stdlib-docs", protocol=protocol, measure_speed=False, progress=False)
    assert engine_of(ref_rec["model"]).name == "reference" and ref_rec["model"]["engine"]["activations"] == "float32"


def test_packed_engine_refuses_what_it_cannot_serve(tiny_baseline, tmp_path, capsys):
    from kit.cli.main import main

    bnb = quantize(model=str(tiny_baseline), method="bnb-int8", out=tmp_path / "bnb", **SMALL).path
    code = main(["eval", "--model", str(bnb), "--engine", "packed", "--eval", "stdlib-docs", "--no-speed"])
    err = capsys.readouterr().err
    assert code == 2 and "does not run bitsandbytes" in err and "--engine reference" in err and "Traceback" not in err
    with pytest.raises(KitError, match="serves a quantized artifact"):
        load_model(str(tiny_baseline), engine="packed")
    with pytest.raises(KitError, match="CPU kernels only"):
        check_servable(device="cuda", quant={"library": "llmcompressor"}, path=tmp_path)
    with pytest.raises(KitError, match="unknown engine"):
        load_model(str(tiny_baseline), engine="fast")


def test_batch_one_head_matches_linear_and_keeps_the_tied_weight():
    from kit.serving import BatchOneHead

    weight = torch.nn.Parameter(torch.randn(96, 32, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16))
    head = BatchOneHead(weight=weight)
    assert head.weight is weight
    one, many = torch.randn(1, 1, 32), torch.randn(2, 3, 32)
    for x in (one, many):  # matrix-vector at one position, F.linear otherwise: the same product up to bf16 rounding
        expected = torch.nn.functional.linear(x.to(torch.bfloat16).float(), weight.float())
        assert head(x).shape == expected.shape
        assert (head(x).float() - expected).abs().max() <= 0.02 * expected.abs().max()
