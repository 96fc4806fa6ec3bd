"""kit.quant.quantize on the real model: reload round trip, atomic writes, argument errors, CLI, compare."""

import json
import math
import shutil

import pytest

from kit.cli.main import main
from kit.errors import KitError
from kit.eval.harness import Protocol, evaluate
from kit.models import QUANT_FILE, load_model
from kit.quant.compare import compare
from kit.quant.methods import METHODS
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec

SMALL = {"samples": 4, "seq_len": 64, "device": "cpu", "progress": False}
PROTOCOL = Protocol(max_tokens=256, limit=12)


def _same_numbers(in_memory, path):
    """Evaluate the in-memory model and its reloaded artifact on a text and an MC set."""
    loaded = load_model(str(path), device="cpu")
    assert loaded.sha256 == in_memory.sha256
    for name in ("stdlib-docs", "everyday-mc"):
        kw = {"eval_set": name, "protocol": PROTOCOL, "measure_speed": False, "progress": False}
        a, b = evaluate(model=in_memory, **kw)["accuracy"], evaluate(model=loaded, **kw)["accuracy"]
        if name == "stdlib-docs":
            assert math.isclose(a["perplexity"], b["perplexity"], rel_tol=1e-4), (a["perplexity"], b["perplexity"])
        else:
            assert a["correct"] == b["correct"]


@pytest.mark.parametrize("method", ["bnb-int8", "rtn"])
def test_round_trip_real_model(method, tmp_path, smol):
    q = quantize(model="smollm2-135m", method=method, out=tmp_path / method, **SMALL)
    assert q.config["baseline"] == {"ref": "smollm2-135m", "path": str(smol.path), "sha256": smol.sha256}
    assert q.config["quantized_modules"] == 210
    assert q.config["weight_bytes"] < smol.weight_bytes() / 2
    _same_numbers(q.model, q.path)


@pytest.mark.slow
def test_round_trip_gptq_real_model(tmp_path, smol):
    q = quantize(model="smollm2-135m", method="gptq", out=tmp_path / "gptq", **SMALL)
    assert q.config["calibration"]["tokens"] == 256
    _same_numbers(q.model, q.path)


def test_interrupted_save_leaves_nothing_loadable(tiny_baseline, tmp_path, monkeypatch):
    adapter = METHODS["rtn"]
    real_save = adapter.save

    def save_then_die(model, folder):
        real_save(model, folder)  # weights and config.json are on disk, the log is not yet
        raise RuntimeError("simulated interruption")

    monkeypatch.setattr(adapter, "save", save_then_die)
    out = tmp_path / "rtn"
    with pytest.raises(RuntimeError, match="simulated interruption"):
        quantize(model=str(tiny_baseline), method="rtn", out=out, **SMALL)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the temp folder went too


def test_killed_run_partial_folder_is_refused(tiny_baseline, tmp_path):
    partial = tmp_path / ".rtn.partial-abc123"  # what a SIGKILL would leave behind
    shutil.copytree(tiny_baseline, partial)
    with pytest.raises(KitError, match="unfinished write"):
        load_model(str(partial), device="cpu")


def test_tampered_artifact_is_refused(tiny_baseline, tmp_path):
    q = quantize(model=str(tiny_baseline), method="rtn", out=tmp_path / "rtn", **SMALL)
    log = json.loads((q.path / QUANT_FILE).read_text())
    log["weights_sha256"] = "0" * 64
    (q.path / QUANT_FILE).write_text(json.dumps(log))
    with pytest.raises(KitError, match="weights_sha256"):
        load_model(str(q.path), device="cpu")


def test_overwrite_replaces(tiny_baseline, tmp_path):
    out = tmp_path / "q"
    quantize(model=str(tiny_baseline), method="bnb-int8", out=out, **SMALL)
    with pytest.raises(KitError, match="already exists; choose another --out or pass --overwrite"):
        quantize(model=str(tiny_baseline), method="rtn", out=out, **SMALL)
    q = quantize(model=str(tiny_baseline), method="rtn", out=out, overwrite=True, **SMALL)
    assert json.loads((out / QUANT_FILE).read_text())["method"] == "rtn" == q.config["method"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "hqq"}, "unknown method 'hqq'; choose one of: bnb-int8"),
    ({"method": "gptq", "group_size": 128}, r"group size 128 does not divide .* --group-size 16, 32, 64"),
    ({"method": "gptq", "bits": 3}, "supports bits 4, 8, not 3; pass --bits 4"),
    ({"method": "bnb-nf4", "bits": 8}, "supports bits 4, not 8; pass --bits 4"),
    ({"method": "bnb-int8", "group_size": 64}, "drop --group-size"),
    ({"method": "gptq", "samples": 0}, "fix --samples/--seq-len"),
    ({"method": "gptq", "calibration": "nope"}, "calibration set 'nope' not found"),
])
def test_bad_arguments_name_the_fix(kwargs, message, tmp_path):
    args = {"model": "smollm2-135m", "out": tmp_path / "q", **SMALL, **kwargs}
    with pytest.raises(KitError, match=message) as err:
        quantize(**args)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "q").exists()


def test_refuses_quantized_input_and_baseline_as_out(tiny_baseline, tmp_path, smol):
    q = quantize(model=str(tiny_baseline), method="rtn", out=tmp_path / "rtn", **SMALL)
    with pytest.raises(KitError, match="already quantized; pass its baseline"):
        quantize(model=str(q.path), method="rtn", out=tmp_path / "again", **SMALL)
    with pytest.raises(KitError, match="is the baseline folder itself"):
        quantize(model="smollm2-135m", method="rtn", out=smol.path, overwrite=True, **SMALL)


def test_cli_quantize(tiny_baseline, tmp_path, capsys):
    out = tmp_path / "gptq"
    argv = ["quantize", "--model", str(tiny_baseline), "--method", "gptq", "--out", str(out),
            "--samples", "4", "--seq-len", "64", "--device", "cpu"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    for line in ("[baseline]", "[calibration] 4 × 64 tokens from stdlib-docs-calib (seed 0)",
                 "[quantize] gptq w4g64: 14 modules", "[save]", f"config log: {out / QUANT_FILE}"):
        assert line in text
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_compare(tiny_baseline, tmp_path, capsys):
    entries = compare(model=str(tiny_baseline), eval_sets=["stdlib-docs", "everyday-mc"], methods=["bnb-int8", "rtn"],
                      out_dir=tmp_path / "cmp", protocol=Protocol(max_tokens=128, limit=8, latency_repeats=1),
                      device="cpu", progress=False, calibration=CalibrationSpec(samples=4, seq_len=64))
    assert [e["method"] for e in entries] == ["baseline", "bnb-int8", "rtn"]
    json.dumps(entries)
    rows = {(r["method"], r["set"]): r for e in entries for r in e["rows"]}
    assert rows[("baseline", "stdlib-docs")]["delta"] == 0.0
    for method in ("bnb-int8", "rtn"):
        row = rows[(method, "stdlib-docs")]
        assert row["stored_ratio"] < 1 and row["top1_agree"] is not None and row["decode_tok_s"] > 0
        assert (tmp_path / "cmp" / method / QUANT_FILE).is_file()
    assert main(["compare", "--model", str(tiny_baseline), "--methods", "rtn", "--eval", "stdlib-docs",
                 "--max-tokens", "128", "--no-speed", "--json", str(tmp_path / "c.json"), "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "stored_ratio" in text and len(json.loads((tmp_path / "c.json").read_text())) == 2
