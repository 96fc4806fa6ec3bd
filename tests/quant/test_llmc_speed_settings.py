"""The config log records how llm-compressor was driven: calibration batch size, threads, AWQ's grid."""

from kit.quant.methods.llmc import AWQ_DUO_SCALING, AWQ_N_GRID, CALIBRATION_BATCH, LlmcMethod


def test_config_log_records_batch_threads_and_grid():
    awq = LlmcMethod("awq").settings(bits=4, group_size=64)
    assert awq["calibration_batch_size"] == CALIBRATION_BATCH > 1 and awq["torch_threads"] >= 1
    modifier = awq["scheme"]["modifiers"][0]
    assert modifier["type"] == "AWQModifier"
    assert (modifier["n_grid"], modifier["duo_scaling"]) == (AWQ_N_GRID, AWQ_DUO_SCALING)
    assert LlmcMethod("gptq").settings(bits=4, group_size=64)["calibration_batch_size"] == CALIBRATION_BATCH
    assert LlmcMethod("rtn").settings(bits=4, group_size=64)["calibration_batch_size"] is None  # no calibration
    assert awq["symmetric"] is True  # scheme unchanged until the recovery study decides
