"""Every method end to end on a 2-layer cut of the real model: config log, artifact, reload."""

import json
import math

import pytest
import torch
from helpers import scratch

from kit.errors import KitError
from kit.eval.harness import Protocol, evaluate
from kit.io import sha256_dir
from kit.models import QUANT_FILE, load_model
from kit.quant.calibration import calibration_chunks
from kit.quant.methods import METHODS
from kit.quant.methods.llmc import SCHEMES
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec, QuantSpec

SMALL = {"samples": 4, "seq_len": 64}
#: AutoRound at 4 signed-gradient steps per block (its sanctioned count is a CPU-minutes run).
FEW_STEPS = {"autoround": (("iters", 4),)}
PROTOCOL = Protocol(max_tokens=256, limit=12)
NO_ACCELERATOR = not torch.accelerator.is_available()


@pytest.fixture(scope="module", params=list(METHODS))
def quantized(request, tiny_baseline, tmp_path_factory):
    """Each method applied once to the tiny baseline, with small calibration."""
    spec = QuantSpec(method=request.param, calibration=CalibrationSpec(**SMALL), scheme=FEW_STEPS.get(request.param, ()))
    with scratch(tmp_path_factory, "q") as root:  # removed before the next method's module instance
        yield quantize(model=str(tiny_baseline), spec=spec, out=root / request.param, device="cpu", progress=False)


def test_config_log_fields(quantized, tiny_baseline):
    c, method = quantized.config, quantized.config["method"]
    assert json.loads((quantized.path / QUANT_FILE).read_text()) == json.loads(json.dumps(c))
    assert c["schema"] == "kit.quantization/1"
    assert c["bits"] == (8 if method in ("bnb-int8", "rtn-int8") else 4)
    assert c["group_size"] == (None if method in ("bnb-int8", "rtn-int8") else 64)
    sanctioned = SCHEMES[method].symmetric if method in SCHEMES else True  # bitsandbytes grids are symmetric
    assert c["symmetric"] is sanctioned and c["quant_type"] in ("int8", "nf4", "fp4", "int")
    assert c["ignore"] == ["lm_head"] and c["quantized_modules"] == 14  # 7 Linear × 2 layers
    assert c["format"] and c["scheme"]["description"]
    assert c["baseline"] == {"ref": str(tiny_baseline), "path": str(tiny_baseline), "sha256": sha256_dir(tiny_baseline)}
    assert c["quantize_seconds"] > 0 and c["peak_memory"]["peak_rss_bytes"] > 0
    assert c["environment"]["packages"]["llmcompressor"] and c["environment"]["packages"]["bitsandbytes"]
    assert c["created_at"].endswith("Z") and c["device"] == "cpu"
    assert c["weights_sha256"] == sha256_dir(quantized.path) == quantized.model.sha256
    assert c["weight_bytes"] > 0
    if method in ("gptq", "awq", "autoround"):
        cal = c["calibration"]
        assert cal["name"] == "stdlib-docs-calib" and len(cal["sha256"]) == 64
        assert (cal["samples"], cal["seq_len"], cal["seed"], cal["tokens"]) == (4, 64, 0, 256)
        assert len(cal["starts"]) == 4 and len(cal["chunks_sha256"]) == 64
    else:
        assert c["calibration"] is None
    if method in ("gptq", "awq", "autoround", "rtn"):
        assert c["scheme"]["weights"]["strategy"] == "group" and c["scheme"]["weights"]["group_size"] == 64
        assert c["resolved_weights"]["num_bits"] == 4 and c["resolved_weights"]["symmetric"] is SCHEMES[method].symmetric
        assert c["scheme"]["deviation_from_sanctioned"] == dict(FEW_STEPS.get(method, ()))
        saved = json.loads((quantized.path / "config.json").read_text())["quantization_config"]
        assert saved["config_groups"]["group_0"]["weights"] == c["resolved_weights"]
        if method == "gptq":
            assert c["resolved_weights"]["actorder"] == "static"
        if method == "autoround":  # steps, step size (auto-round's 1/iters) and batch are in the log
            assert (c["tuning"]["iters"], c["tuning"]["lr"], c["tuning"]["batch_size"]) == (4, 0.25, 8)
        assert (quantized.path / "recipe.yaml").is_file()
    if method == "rtn-int8":  # what the packed engine's int8 kernel takes: one symmetric scale per output row
        assert c["resolved_weights"]["strategy"] == "channel" and c["resolved_weights"]["symmetric"] is True
        assert c["resolved_weights"]["num_bits"] == 8 and c["resolved_weights"]["group_size"] is None
    assert c["shims"] == (["awq-cpu-pin-memory: IntermediatesCache.pin_memory made a no-op (no accelerator)"]
                          if method == "awq" and NO_ACCELERATOR else [])
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (quantized.path / name).is_file()


def test_reload_matches_in_memory(quantized):
    loaded = load_model(str(quantized.path), device="cpu")
    assert loaded.info()["method"] == quantized.config["method"] and loaded.info()["bits"] == quantized.config["bits"]
    for name in ("stdlib-docs", "everyday-mc"):
        kw = {"eval_set": name, "protocol": PROTOCOL, "measure_speed": False, "progress": False}
        a, b = evaluate(model=quantized.model, **kw)["accuracy"], evaluate(model=loaded, **kw)["accuracy"]
        if name == "stdlib-docs":
            assert math.isclose(a["perplexity"], b["perplexity"], rel_tol=1e-4)
        else:
            assert a["correct"] == b["correct"]


def test_calibration_is_deterministic_and_bounded(smol):
    a = calibration_chunks(name="stdlib-docs-calib", tokenizer=smol.tokenizer, samples=8, seq_len=64, seed=0)
    b = calibration_chunks(name="stdlib-docs-calib", tokenizer=smol.tokenizer, samples=8, seq_len=64, seed=0)
    c = calibration_chunks(name="stdlib-docs-calib", tokenizer=smol.tokenizer, samples=8, seq_len=64, seed=1)
    assert a.record() == b.record() and a.starts != c.starts
    assert all(len(chunk) == 64 for chunk in a.chunks) and list(a.starts) == sorted(set(a.starts))
    with pytest.raises(KitError, match="lower --samples"):
        calibration_chunks(name="stdlib-docs-calib", tokenizer=smol.tokenizer, samples=10**6, seq_len=64, seed=0)


def test_awq_shim_is_scoped():
    from llmcompressor.pipelines.cache import IntermediatesCache

    from kit.quant.methods.awq_search import awq_cpu_pin_memory_shim

    original = IntermediatesCache.pin_memory
    with awq_cpu_pin_memory_shim() as applied:
        assert applied is NO_ACCELERATOR
        assert (IntermediatesCache.pin_memory is not original) is NO_ACCELERATOR
    assert IntermediatesCache.pin_memory is original
