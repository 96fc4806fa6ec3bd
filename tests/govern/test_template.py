"""The pilot as a template, on two teams' own baselines of two architecture families (Llama, Qwen2).

Both models are tiny and random (SmolLM2's tokenizer): accuracy is meaningless, the plumbing is
what is tested — add → verify → pilot → pilot ``--like`` the first passing entry → recipe →
debug, and a clear error where a method cannot quantize an architecture (GPT-2's Conv1D).
"""

import json

import pytest
from helpers import scratch_baselines, tiny_model

from kit.baselines import read_entry
from kit.cli.main import main
from kit.errors import KitError
from kit.eval.harness import Protocol
from kit.govern.pilot import run_pilot
from kit.govern.registry import Registry
from kit.quant.quantize import quantize

# RTN is sanctioned (data-free: quick on CPU); lenient limits with tiny minimums so the flow is what is tested.
TINY_POLICY = """\
version: 1
use_cases:
  tiny:
    description: tiny random models for plumbing tests
    default_method: rtn
    eval_sets: [stdlib-docs]
    metrics:
      perplexity: {eval_set: stdlib-docs, direction: lower, limit: {kind: relative, value: 0.5}, min_samples: 20}
      kl_mean: {eval_set: stdlib-docs, direction: lower, limit: {kind: absolute, value: 1.0}, min_samples: 20}
"""


@pytest.fixture
def teams(tmp_path, monkeypatch):
    """Two baselines added with `kit baseline add`: team-a (Llama) and team-b (Qwen2), in a scratch store."""
    return scratch_baselines(tmp_path, monkeypatch, policy=TINY_POLICY, baselines={"team-a": "llama", "team-b": "qwen2"})


def test_second_architecture_follows_the_first_pilot_then_debugs(teams, capsys):
    registry = teams / "registry.sqlite"
    protocol = Protocol(context_length=64, max_tokens=257)
    first = run_pilot(model="team-a", use_case="tiny", protocol=protocol, registry=str(registry), device="cpu",
                      measure_speed=False, out_dir=teams / "runs-a", cache=False)
    assert first["decision"]["recommended"] == "rtn" and first["template_of"] is None
    entry_a = first["decision"]["entry_id"]
    capsys.readouterr()
    with pytest.raises(KitError, match="validated for tiny, not chat-assistant"):
        run_pilot(model="team-b", use_case="chat-assistant", like=entry_a, registry=str(registry))

    out = teams / "b.json"
    # 2,049 tokens: four 512-token windows, enough for the window bounds at the tiny policy's loose limits
    rc = main(["pilot", "--model", "team-b", "--like", entry_a, "--max-tokens", "2049", "--no-speed", "--device", "cpu",
               "--registry", str(registry), "--out-dir", str(teams / "runs-b"), "--json", str(out)])
    captured = capsys.readouterr()
    printed = captured.out
    assert rc == 0, captured.err
    assert f"[template] replaying entry {entry_a}'s recipe (rtn for tiny" in printed
    assert "[policy] the limits of tiny were set on the embedded model (smollm2-135m), not on team-b" in printed
    second = json.loads(out.read_text())
    assert second["template_of"] == entry_a and second["use_case"] == "tiny"
    artifact = teams / "runs-b" / "rtn"
    log = json.loads((artifact / "kit-quantization.json").read_text())
    assert log["template_of"] == entry_a and log["baseline"]["ref"] == "team-b"
    with Registry.open(registry) as reg:
        entry_b = reg.get(second["decision"]["entry_id"])
        assert entry_b.template_of == entry_a and entry_b.baseline_ref == "team-b"
        assert entry_b.baseline_sha256 == read_entry("team-b")["weights_sha256"]  # the store manifest's hash
        assert reg.get(entry_a).baseline_ref == "team-a" and reg.get(entry_a).template_of is None

    assert main(["registry", "show", entry_b.id, "--registry", str(registry)]) == 0
    assert f"followed the validated pilot of entry {entry_a}" in capsys.readouterr().out
    assert main(["registry", "recipe", entry_b.id, "--registry", str(registry)]) == 0
    recipe = capsys.readouterr().out
    assert "kit quantize --model team-b --method rtn --bits 4" in recipe and f"following entry {entry_a}" in recipe
    assert f"kit pilot --model NEW-BASELINE --like {entry_b.id}" in recipe

    rc = main(["debug", "--baseline", "team-b", "--candidate", str(artifact), "--use-case", "tiny", "--tokens", "64",
               "--top", "1", "--device", "cpu"])
    printed = capsys.readouterr().out
    assert rc == 0 and "[diagnose]" in printed and "model.layers.1" in printed


def test_a_method_that_cannot_quantize_an_architecture_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    folder = tiny_model(tmp_path / "gpt2", family="gpt2")
    with pytest.raises(KitError, match="rtn does not support the gpt2 architecture: its projections .* are Conv1D"):
        quantize(model=str(folder), method="rtn", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
