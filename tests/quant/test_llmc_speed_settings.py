"""The config log records how llm-compressor was driven: calibration batch size, threads, AWQ's grid."""

import pytest

from kit.errors import KitError
from kit.quant.methods.llmc import CALIBRATION_BATCH, SCHEMES, LlmcMethod


def test_config_log_records_batch_threads_and_grid():
    awq = LlmcMethod("awq").settings(bits=4, group_size=64)
    assert awq["calibration_batch_size"] == CALIBRATION_BATCH > 1 and awq["torch_threads"] >= 1
    modifier = awq["scheme"]["modifiers"][0]
    assert modifier["type"] == "SubsetSearchAWQModifier"  # llm-compressor's AWQModifier, grid search capped
    assert (modifier["n_grid"], modifier["duo_scaling"], modifier["search_samples"]) == (
        SCHEMES["awq"].n_grid, SCHEMES["awq"].duo_scaling, SCHEMES["awq"].search_samples)
    assert modifier["calibration_batch_size"] == CALIBRATION_BATCH
    assert awq["scheme"]["weights"]["observer"] == SCHEMES["awq"].observer
    assert LlmcMethod("gptq").settings(bits=4, group_size=64)["calibration_batch_size"] == CALIBRATION_BATCH
    assert LlmcMethod("rtn").settings(bits=4, group_size=64)["calibration_batch_size"] is None  # no calibration
    assert awq["symmetric"] is SCHEMES["awq"].symmetric
    assert awq["scheme"]["weights"]["symmetric"] is SCHEMES["awq"].symmetric
    assert awq["scheme"]["deviation_from_sanctioned"] == {}


def test_scheme_overrides_reach_the_recipe_and_are_logged_as_a_deviation():
    gptq = LlmcMethod("gptq")
    flipped = not SCHEMES["gptq"].symmetric
    log = gptq.settings(bits=4, group_size=64, overrides={"symmetric": flipped, "dampening_frac": 0.1})
    assert log["symmetric"] is flipped and log["scheme"]["weights"]["symmetric"] is flipped
    assert log["scheme"]["modifiers"][0]["dampening_frac"] == 0.1
    assert log["scheme"]["deviation_from_sanctioned"] == {"symmetric": flipped, "dampening_frac": 0.1}
    with pytest.raises(KitError, match="unknown scheme field.*choose from"):
        gptq.settings(bits=4, group_size=64, overrides={"symetric": False})


def test_observer_override_reaches_the_weight_args():
    log = LlmcMethod("rtn").settings(bits=4, group_size=64, overrides={"observer": "mse"})
    assert log["scheme"]["weights"]["observer"] == "mse"
    assert log["scheme"]["deviation_from_sanctioned"] == {"observer": "mse"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"observer": "nope"}, "unknown observer 'nope'; choose one of"),
    ({"search_samples": 0}, "search_samples must be a whole number ≥ 1"),
    ({"search_samples": 2.5}, "search_samples must be a whole number ≥ 1"),
])
def test_bad_scheme_values_are_one_line_errors(overrides, message):
    with pytest.raises(KitError, match=message):
        LlmcMethod("awq").settings(bits=4, group_size=64, overrides=overrides)


def test_imatrix_needs_calibration():
    with pytest.raises(KitError, match="imatrix_mse weighs errors by calibration activations; rtn"):
        LlmcMethod("rtn").settings(bits=4, group_size=64, overrides={"observer": "imatrix_mse"})


def test_autoround_logs_its_steps_step_size_and_batch():
    log = LlmcMethod("autoround").settings(bits=4, group_size=64)
    modifier = log["scheme"]["modifiers"][0]
    assert modifier["type"] == "AutoRoundModifier" and modifier["iters"] == SCHEMES["autoround"].iters
    assert modifier["lr"] == log["tuning"]["lr"] == 1 / SCHEMES["autoround"].iters  # auto-round's rule, made explicit
    assert (log["tuning"]["batch_size"], modifier["batch_size"]) == (CALIBRATION_BATCH, CALIBRATION_BATCH)
    assert modifier["enable_torch_compile"] is False and log["tuning"]["auto_round"]
    given = LlmcMethod("autoround").settings(bits=4, group_size=64, overrides={"iters": 10, "lr": 0.01})
    assert (given["tuning"]["iters"], given["tuning"]["lr"], given["tuning"]["lr_rule"]) == (10, 0.01, "given")
    assert LlmcMethod("gptq").settings(bits=4, group_size=64)["tuning"] is None


def test_awq_logs_the_clip_grid_only_when_clipping():
    log = LlmcMethod("awq").settings(bits=4, group_size=64)  # sanctioned: the clipping search on
    assert log["tuning"]["clip"]["ratios"][0] == 1.0 and log["tuning"]["clip"]["ratios"][-1] == 0.55
    assert log["scheme"]["modifiers"][0]["clip"] is True
    off = LlmcMethod("awq").settings(bits=4, group_size=64, overrides={"clip": False})
    assert off["tuning"]["clip"] is None and off["scheme"]["deviation_from_sanctioned"] == {"clip": False}


def test_per_channel_scales_have_no_group_size():
    weights = LlmcMethod("gptq").settings(bits=4, group_size=None, overrides={"per_channel": True})["scheme"]["weights"]
    assert (weights["strategy"], weights["group_size"]) == ("channel", None)


@pytest.mark.parametrize(("method", "overrides", "message"), [
    ("gptq", {"clip": True}, "clip is AWQ's clipping search"),
    ("autoround", {"observer": "mse"}, "tunes its own scales"),
    ("autoround", {"iters": 0}, "iters must be a whole number"),
    ("autoround", {"lr": -1.0}, "lr must be a positive number"),
])
def test_scheme_fields_a_method_cannot_use_are_refused(method, overrides, message):
    with pytest.raises(KitError, match=message):
        LlmcMethod(method).settings(bits=4, group_size=64, overrides=overrides)


def test_quantize_refuses_a_group_size_with_per_channel_scales(tmp_path):
    from kit.quant.quantize import quantize
    from kit.quant.spec import QuantSpec

    with pytest.raises(KitError, match="per_channel keeps one scale per output row; drop the group size"):
        quantize(model="smollm2-135m", out=tmp_path / "x", progress=False,
                 spec=QuantSpec(method="rtn", group_size=64, scheme=(("per_channel", True),)))
