import json

import pytest

from kit.cli.main import main
from kit.eval.harness import SCHEMA, Protocol, evaluate

QUICK = Protocol(context_length=128, max_tokens=257, limit=8, latency_prompt_tokens=16,
                 latency_new_tokens=4, latency_repeats=2)


@pytest.fixture(scope="module")
def text_record(smol):
    return evaluate(model=smol, eval_set="stdlib-docs", baseline=smol, protocol=QUICK, progress=False)


def test_record_schema_is_complete_and_json(text_record):
    r = json.loads(json.dumps(text_record))
    assert r["schema"] == SCHEMA
    assert {"model", "baseline", "eval_set", "protocol", "accuracy", "agreement", "latency",
            "throughput", "memory", "environment", "seconds"} <= set(r)
    assert r["protocol"] == {**r["protocol"], "kind": "text", "context_length": 128, "stride": 128, "max_tokens": 257}
    assert r["accuracy"]["tokens_scored"] == 257 - 1  # every token after the first, once
    assert r["accuracy"]["windows"] == 3  # steps of 127: windows overlap by one token
    assert r["eval_set"]["sha256"] and r["model"]["sha256"] == r["baseline"]["sha256"]
    assert r["model"]["engine"] == {"name": "reference", "backend": "torch", "activations": "float32"}  # docs/engines.md
    env = r["environment"]
    assert env["packages"]["torch"].startswith("2.") and env["hardware"]["device"] == "cpu"
    assert {"kit", "git_commit", "python"} <= set(env)


def test_latency_memory_throughput(text_record):
    lat, thr, mem = text_record["latency"], text_record["throughput"], text_record["memory"]
    assert lat["warmup"] == 1 and lat["repeats"] == 2 and lat["prompt_tokens"] == 16
    assert 0 < lat["decode_ms_p50"] <= lat["decode_ms_p95"]
    assert lat["ttft_ms"] >= lat["prefill_ms"] > 0
    assert thr["prefill_tokens_per_s"] > 0 and thr["decode_tokens_per_s"] > 0 and thr["eval_tokens_per_s"] > 0
    assert mem["weight_bytes"] > 500e6 and mem["peak_rss_bytes"] > mem["weight_bytes"]
    assert mem["rss_after_load_bytes"] > 0  # the process right after the model loaded


def test_multiple_choice_record_keeps_per_item_correctness(smol):
    r = evaluate(model=smol, eval_set="everyday-mc", protocol=QUICK, measure_speed=False, progress=False)
    assert r["latency"] is None and r["agreement"] is None
    assert len(r["accuracy"]["correct"]) == r["accuracy"]["items"] == 8
    assert r["accuracy"]["accuracy"] == sum(r["accuracy"]["correct"]) / 8
    assert r["protocol"]["limit"] == 8


def test_cli_eval_on_any_text_file(tmp_path, capsys):
    txt = tmp_path / "some.txt"
    txt.write_text("Quantization maps floating point weights to fewer bits. " * 40)
    out = tmp_path / "r.json"
    rc = main(["eval", "--model", "smollm2-135m", "--eval", str(txt), "--context-length", "64",
               "--stride", "32", "--json", str(out), "--no-speed"])
    assert rc == 0
    rec = json.loads(out.read_text())
    assert rec["protocol"]["context_length"] == 64 and rec["protocol"]["stride"] == 32
    assert rec["eval_set"]["name"] == "some" and rec["accuracy"]["perplexity"] > 1
    assert "ppl" in capsys.readouterr().out


def test_cli_bad_input_is_one_line_error(tmp_path, capsys):
    assert main(["eval", "--model", str(tmp_path / "missing"), "--eval", "stdlib-docs"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: model") and "\n" not in err
