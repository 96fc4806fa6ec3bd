"""AutoRound's asymmetric artifact keeps AutoRound's zero points: saved weights as close as plain rounding's, not worse."""

from __future__ import annotations

import pytest
import torch
from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
from safetensors.torch import load_file

from kit.errors import KitError
from kit.quant.methods.autoround_zp import signed_zero_point
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec, QuantSpec


def test_unsigned_zero_points_shift_to_the_signed_convention():
    assert signed_zero_point(torch.tensor([0.0, 8.0, 15.0]), bits=4).tolist() == [-8, 0, 7]
    assert signed_zero_point(torch.tensor([255.0]), bits=8).tolist() == [127]
    for bad in ([16.0], [-1.0], [3.5], [float("nan")]):
        with pytest.raises(KitError, match="outside the whole numbers 0..15"):
            signed_zero_point(torch.tensor(bad), bits=4)


def _weight_error(artifact, baseline) -> float:
    """Relative squared error of the artifact's dequantized Linear weights against the baseline's."""
    from kit.models import load_model

    model = load_model(str(artifact), device="cpu").model
    with torch.inference_mode():
        model(torch.tensor([[1, 2, 3]]))  # compressed-tensors decompresses on first use
    ref = load_file(str(baseline / "model.safetensors"))
    err = norm = 0.0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name != "lm_head":
            w = ref[f"{name}.weight"].float()
            err += float(((module.weight.float() - w) ** 2).sum())
            norm += float((w ** 2).sum())
    return err / norm


def test_asymmetric_autoround_saves_its_own_zero_points(tiny_baseline, tmp_path):
    cal = CalibrationSpec(samples=4, seq_len=64)
    rtn = quantize(model=str(tiny_baseline), out=tmp_path / "rtn", device="cpu", progress=False,
                   spec=QuantSpec(method="rtn", group_size=64))
    # one step of a tiny size: AutoRound barely moves from rounding to nearest, so its saved weights must be
    # about as close to the baseline's as RTN's (before the fix they were several times farther).
    ar = quantize(model=str(tiny_baseline), out=tmp_path / "ar", device="cpu", progress=False,
                  spec=QuantSpec(method="autoround", group_size=64, calibration=cal,
                                 scheme=(("iters", 4), ("lr", 1e-4))))
    tensors = load_file(str(ar.path / "model.safetensors"))
    zps = [unpack_from_int32(t, 4, tensors[k.replace("zero_point", "scale")].shape, packed_dim=0)
           for k, t in tensors.items() if k.endswith("weight_zero_point")]
    assert zps and any(bool((z != 0).any()) for z in zps)  # AutoRound's zero points, not the placeholder zeros
    assert _weight_error(ar.path, tiny_baseline) <= 1.2 * _weight_error(rtn.path, tiny_baseline)
