"""The pilot flow: the reason rule, and one real end-to-end run on smollm2-135m with small sizes."""

import json

import pytest

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.pilot import run_pilot
from kit.govern.registry import Registry
from kit.quant.spec import QuantSpec

# A lenient policy for tiny quick runs, so the flow (not the model) is what is tested; kl_mean
# separates 8-bit (KL ≈ 0.02) from 4-bit NF4 (KL ≈ 0.27). Both are bitsandbytes: quick to make on CPU.
QUICK_POLICY = """\
version: 1
use_cases:
  quick:
    description: tiny sizes for tests
    default_method: bnb-nf4
    eval_sets: [stdlib-docs, everyday-mc, short-answers]
    metrics:
      perplexity: {eval_set: stdlib-docs, direction: lower, limit: {kind: relative, value: 0.5}, min_samples: 200}
      accuracy: {eval_set: everyday-mc, direction: higher, limit: {kind: absolute, value: 0.25}, min_samples: 10}
      contains_match: {eval_set: short-answers, direction: higher, limit: {kind: absolute, value: 0.4}, min_samples: 10}
      kl_mean: {eval_set: stdlib-docs, direction: lower, limit: {kind: absolute, value: 0.08}, min_samples: 200}
"""


def test_other_methods_need_a_reason_before_any_work(tmp_path, capsys):
    registry = tmp_path / "r.sqlite"
    with pytest.raises(KitError, match="sanctions bnb-int8; to try gptq record why"):
        run_pilot(model="smollm2-135m", use_case="chat-assistant", candidates=["gptq"], registry=str(registry))
    with pytest.raises(KitError, match="unknown method"):
        run_pilot(model="smollm2-135m", use_case="chat-assistant", candidates=[QuantSpec(method="hqq")], reason="x")
    assert main(["pilot", "--model", "smollm2-135m", "--use-case", "batch-summaries", "--methods", "gptq", "awq",
                 "--registry", str(registry)]) == 2
    assert "sanctions gptq; to try awq record why with --reason" in capsys.readouterr().err
    assert not registry.exists()
    with pytest.raises(KitError, match="unknown use case"):
        run_pilot(model="smollm2-135m", use_case="nope")


@pytest.mark.slow
def test_pilot_end_to_end_on_the_real_model(tmp_path, capsys, monkeypatch):
    policies = tmp_path / "policies.yaml"
    policies.write_text(QUICK_POLICY)
    monkeypatch.setenv("KIT_POLICIES", str(policies))
    registry, out = tmp_path / "registry.sqlite", tmp_path / "pilot.json"
    rc = main(["pilot", "--model", "smollm2-135m", "--use-case", "quick", "--methods", "bnb-nf4", "bnb-int8",
               "--reason", "compare 8-bit against the 4-bit default", "--owner", "ada", "--volume", "1200",
               "--max-tokens", "513", "--limit", "10", "--samples", "8", "--seq-len", "64", "--no-speed",
               "--device", "cpu", "--registry", str(registry), "--out-dir", str(tmp_path / "runs"), "--json", str(out)])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    stages = ("[pilot]", "[serving] serving target cpu: sanctioned default bnb-nf4 — no cpu serving default is recorded",
              "[baseline]", "[quantize] bnb-nf4", "[eval] bnb-int8", "[gate] bnb-nf4", "[register] bnb-int8")
    for stage in stages:
        assert stage in printed
    assert result["serving_default"] | {"reason": ""} == {"target": "cpu", "method": "bnb-nf4", "engine": None,
                                                          "reason": "", "recorded": False}
    verdicts = {c["method"]: c["verdict"] for c in result["candidates"]}
    assert set(verdicts) == {"bnb-nf4", "bnb-int8"}
    assert verdicts["bnb-int8"]["passed"] and not verdicts["bnb-nf4"]["passed"], printed
    kl = {m: next(x for x in v["metrics"] if x["metric"] == "kl_mean") for m, v in verdicts.items()}
    assert kl["bnb-int8"]["value"] < 0.08 < kl["bnb-nf4"]["value"] and kl["bnb-nf4"]["status"] == "fail"
    assert [r["method"] for r in result["table"]] == ["baseline", "bnb-nf4", "bnb-int8"]
    # look by look: NF4 stopped on its KL fail before scoring all of everyday-mc; int8 needed every item
    nf4, int8 = (c["evaluation"] for c in result["candidates"])
    assert nf4["stopped"].startswith("fail: kl_mean at look 1") and nf4["sets"]["everyday-mc"]["fraction"] < 1
    assert int8["sets"]["everyday-mc"] == {"scored": 10, "total": 10, "unit": "items", "fraction": 1.0}
    assert "[scored] bnb-nf4: stdlib-docs 2/2 windows" in printed and "[look] 1:" in printed
    assert [len(t["scored"]) for t in result["timings"]["looks"]][0] == 3
    assert result["decision"]["recommended"] == "bnb-int8"  # the default failed: the smallest passing one
    assert rc == 0 and "decision: bnb-int8" in printed
    with Registry.open(registry) as reg:
        entries = {e.method: e for e in reg.find("smollm2-135m")}
        assert set(entries) == {"bnb-nf4", "bnb-int8"}
        int8 = entries["bnb-int8"]
        assert (int8.owner, int8.volume_per_day, int8.use_case) == ("ada", 1200, "quick")
        assert int8.reason == "compare 8-bit against the 4-bit default" and entries["bnb-nf4"].reason is None
        assert int8.quant_config["method"] == "bnb-int8" and int8.model_ref.endswith("bnb-int8")
        assert len(int8.evals["candidate"]) == 3 and int8.passed == verdicts["bnb-int8"]["passed"]
