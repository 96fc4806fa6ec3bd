"""The non-numerical checks on the real tokenizer: calibration domain and size read from a configuration log."""

from __future__ import annotations

import pytest

from kit.debug.checks import MIN_CALIBRATION_SAMPLES, calibration_checks


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from kit.models import resolve_path

    return AutoTokenizer.from_pretrained(resolve_path("smollm2-135m"))


def _log(name, samples, seq_len):
    return {"calibration": {"name": name, "samples": samples, "seq_len": seq_len}}


def _warnings(findings):
    return {f["target"]: f for f in findings if f["severity"] == "warning"}


def test_in_domain_default_calibration_raises_no_warning(tokenizer):
    found = calibration_checks(config=_log("stdlib-docs-calib", 64, 256), eval_sets=["stdlib-docs"],
                               tokenizer=tokenizer, widest_input=1536)
    assert _warnings(found) == {} and [f["severity"] for f in found] == ["info"]


def test_off_domain_calibration_is_a_warning_naming_the_better_set(tokenizer):
    warn = _warnings(calibration_checks(config=_log("numbers-calib", 64, 256), eval_sets=["stdlib-docs"],
                                        tokenizer=tokenizer, widest_input=1536))
    assert set(warn) == {"numbers-calib"}
    assert "recalibrate on stdlib-docs-calib" in warn["numbers-calib"]["text"]


@pytest.mark.parametrize(("samples", "seq_len", "rank_deficient"), [(2, 256, True), (16, 64, True), (8, 512, False)])
def test_too_little_calibration_is_a_warning_with_its_reason(tokenizer, samples, seq_len, rank_deficient):
    warn = _warnings(calibration_checks(config=_log("stdlib-docs-calib", samples, seq_len), eval_sets=["stdlib-docs"],
                                        tokenizer=tokenizer, widest_input=1536))
    assert set(warn) == {"samples"}
    text = warn["samples"]["text"]
    assert ("rank-deficient" in text) is rank_deficient
    assert (f"fewer than {MIN_CALIBRATION_SAMPLES} chunks" in text) is (samples < MIN_CALIBRATION_SAMPLES)
    assert "use the default 64 × 256" in text


def test_too_little_calibration_names_the_methods_own_reason(tokenizer):
    config = _log("stdlib-docs-calib", 1, 128) | {"method": "autoround"}
    text = _warnings(calibration_checks(config=config, eval_sets=["stdlib-docs"], tokenizer=tokenizer,
                                        widest_input=1536))["samples"]["text"]
    assert "AutoRound tunes its rounding to those few vectors" in text and "Hessians" not in text
