"""kit.quant.spec: calibration defaults stated once, QuantSpec built from loose values, bad mixes refused."""

import argparse

import pytest

from kit.errors import KitError
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec


def test_defaults_are_stated_once_and_reused():
    assert CalibrationSpec(name="stdlib-docs-calib", samples=64, seq_len=256, seed=0) == DEFAULT_CALIBRATION
    assert CalibrationSpec.build() == DEFAULT_CALIBRATION
    assert CalibrationSpec.build(samples=8) == CalibrationSpec(samples=8)
    assert QuantSpec(method="gptq").calibration is DEFAULT_CALIBRATION


def test_cli_flag_defaults_come_from_the_spec():
    from kit.cli._args import add_calibration_args, calibration_from_args

    p = argparse.ArgumentParser()
    add_calibration_args(p)
    assert calibration_from_args(p.parse_args([])) == DEFAULT_CALIBRATION
    assert calibration_from_args(p.parse_args(["--samples", "4", "--seq-len", "64"])) == CalibrationSpec(
        samples=4, seq_len=64)


def test_build_from_loose_values_and_method_facts():
    spec = QuantSpec.build(method="awq", bits=8, calibration="my.txt", samples=4)
    assert spec == QuantSpec(method="awq", bits=8, calibration=CalibrationSpec(name="my.txt", samples=4))
    assert QuantSpec(method="bnb-int8").resolved_bits == 8 and spec.resolved_bits == 8
    assert QuantSpec.of("rtn") == QuantSpec(method="rtn") and QuantSpec.of(spec) is spec
    assert spec.to_dict()["calibration"]["samples"] == 4
    with pytest.raises(KitError, match="unknown method 'hqq'; choose one of: bnb-int8"):
        _ = QuantSpec(method="hqq").info
    with pytest.raises(KitError, match="inside the CalibrationSpec"):
        QuantSpec.build(method="gptq", calibration=CalibrationSpec(), samples=4)


def test_quantize_refuses_spec_and_loose_values_together(tmp_path):
    from kit.quant.quantize import quantize

    with pytest.raises(KitError, match="pass either spec= or bits=, not both"):
        quantize(model="smollm2-135m", out=tmp_path / "q", spec=QuantSpec(method="rtn"), bits=8)
    with pytest.raises(KitError, match="needs a method"):
        quantize(model="smollm2-135m", out=tmp_path / "q")
    assert not (tmp_path / "q").exists()
