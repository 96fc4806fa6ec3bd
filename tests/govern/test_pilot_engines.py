"""The pilot evaluates each candidate on its serving engine, and times the baseline's served (bf16) form in the same run."""

from types import SimpleNamespace

import pytest
from helpers import scratch_baselines

from kit.engines import EngineInfo
from kit.errors import KitError
from kit.eval.harness import Protocol
from kit.govern.pilot import run_pilot
from kit.govern.pilot_engines import SERVED_FORMS_KEY, attach_served_forms, serving_models
from kit.govern.pilot_plan import PilotOptions
from kit.report.summary import _speed_rows

POLICY = """\
version: 1
use_cases:
  tiny:
    description: a tiny random model, for the engine plumbing
    default_method: rtn
    eval_sets: [stdlib-docs]
    metrics:
      perplexity: {eval_set: stdlib-docs, direction: lower, limit: {kind: relative, value: 0.5}, min_samples: 20}
"""
# Timing settings small enough for a test; the numbers are not what is tested.
QUICK = Protocol(context_length=64, max_tokens=129, latency_prompt_tokens=8, latency_new_tokens=3,
                 latency_repeats=1, warmup=0)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A random 2-layer Llama added as baseline ``tiny-llama`` in a scratch store, with the one-metric policy."""
    return scratch_baselines(tmp_path, monkeypatch, policy=POLICY, baselines={"tiny-llama": "llama"})


def _pilot(tmp_path, engine, measure_speed):
    return run_pilot(model="tiny-llama", use_case="tiny", protocol=QUICK, register=False, device="cpu",
                     measure_speed=measure_speed, out_dir=tmp_path / f"runs-{engine}", cache=False, engine=engine)


def test_serving_pilot_runs_rtn_packed_and_times_the_bf16_baseline(tiny, capsys):
    result = _pilot(tiny, "serving", measure_speed=True)
    printed = capsys.readouterr().out
    cand = result["candidates"][0]
    engines = {r["model"]["engine"]["name"] for r in cand["records"]}
    assert engines == {"packed"}
    assert "[engine] rtn evaluated on packed (torch, bfloat16)" in printed
    assert "on packed (torch, bfloat16) vs baseline" in cand["verdict_text"]  # the verdict names both engines
    base = result["baseline"]["records"]
    assert {r["model"]["engine"]["name"] for r in base} == {"reference"}
    forms = [f for r in base for f in r.get(SERVED_FORMS_KEY) or []]
    assert [f["form"] for f in forms] == ["bf16"] and forms[0]["throughput"]["decode_tokens_per_s"] > 0
    assert forms[0]["model"]["engine"] == {"name": "reference", "backend": "torch", "activations": "bfloat16"}
    assert "[served] baseline bf16 form" in printed
    rows = _speed_rows(base, [{"method": "rtn", "records": cand["records"]}], speeds=[])
    bf16 = [r for r in rows if r["method"] == "baseline" and r["form"] == "bf16"]
    assert len(bf16) == 1 and bf16[0]["source"] == "this pilot"
    assert {r["hardware"] for r in rows} == {rows[0]["hardware"]}  # one hardware: the served baseline is comparable


def test_reference_pilot_keeps_every_candidate_dequantized(tiny, capsys):
    result = _pilot(tiny, "reference", measure_speed=False)
    cand = result["candidates"][0]
    assert {r["model"]["engine"]["name"] for r in cand["records"]} == {"reference"}
    assert "rtn evaluated on reference (torch, float32) (asked for the reference engine)" in capsys.readouterr().out
    assert not any(r.get(SERVED_FORMS_KEY) for r in result["baseline"]["records"])


def test_bitsandbytes_keeps_its_own_kernels_and_says_why(capsys, tmp_path):
    engine = EngineInfo(name="reference", backend="bitsandbytes", activations="float32")
    loaded = SimpleNamespace(device="cpu", quantization={"library": "bitsandbytes", "method": "bnb-int8"},
                             engine_info=lambda: engine)
    chosen = serving_models(quantized=[SimpleNamespace(model=loaded, path=tmp_path)], methods=["bnb-int8"],
                            engine="serving")
    assert chosen == [loaded]
    line = capsys.readouterr().out
    assert "bnb-int8 evaluated on reference (bitsandbytes, float32)" in line
    assert "does not run bitsandbytes artifacts" in line


def test_served_forms_go_on_the_timed_record_of_a_copy():
    records = [{"latency": None, "n": 1}, {"latency": {"decode_ms_mean": 5.0}, "n": 2}]
    out = attach_served_forms(records, [{"form": "bf16"}])
    assert out[1][SERVED_FORMS_KEY] == [{"form": "bf16"}] and SERVED_FORMS_KEY not in out[0]
    assert SERVED_FORMS_KEY not in records[1]  # a cached record is not changed
    assert attach_served_forms(records, []) is records


def test_unknown_engine_choice_is_refused_before_work():
    with pytest.raises(KitError, match="unknown pilot engine 'fast'; use --engine serving or reference"):
        PilotOptions(engine="fast")
