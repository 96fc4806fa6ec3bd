"""``kit debug`` / ``kit regressions`` end to end, and ``kit quantize --ignore`` for real (slow: real model)."""

from __future__ import annotations

import json

import pytest
import torch

from kit.cli.main import main


def test_debug_refuses_bad_input_before_work(tmp_path, capsys):
    assert main(["debug", "--baseline", "smollm2-135m", "--candidate", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["debug", "--baseline", "smollm2-135m", "--candidate", str(tmp_path), "--fix-out", "x"]) == 2
    assert "--bisect" in capsys.readouterr().err
    assert main(["regressions", "plant", "no-such-thing", "--out", str(tmp_path / "p")]) == 2
    assert "choose one of" in capsys.readouterr().err


def test_regressions_list_names_each_bundled_one(capsys):
    from kit.debug.regressions import list_regressions

    assert main(["regressions", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_regressions())
    assert "answer" not in out and "explanation" not in out  # the hidden answer stays hidden


@pytest.mark.slow
def test_plant_then_debug_ranks_the_planted_module_and_writes_json(tmp_path, capsys):
    cand = tmp_path / "planted"
    assert main(["regressions", "plant", "misscaled-down-proj", "--out", str(cand)]) == 0
    out = tmp_path / "diag.json"
    code = main(["debug", "--baseline", "smollm2-135m", "--candidate", str(cand), "--use-case", "code-completion",
                 "--tokens", "64", "--top", "1", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    data = json.loads(out.read_text())
    assert data["schema"] == "kit.diagnosis/1"
    assert data["findings"][0]["target"] == "model.layers.12.mlp.down_proj"
    assert "1. [warning] module model.layers.12.mlp.down_proj" in text
    assert data["modules"]["rows"] and data["shape"]["shape"] == "localized"


@pytest.mark.slow
def test_quantize_ignore_keeps_the_named_modules_in_full_precision(tmp_path, smol):
    from kit.debug.faults import weight_modules
    from kit.debug.regressions import load_candidate
    from kit.quant.quantize import quantize

    r = quantize(model="smollm2-135m", method="rtn", bits=8, group_size=64, ignore=["model.layers.3.mlp"],
                 out=tmp_path / "rtn", progress=False)
    assert r.config["ignore"] == ["lm_head", "model.layers.3.mlp.gate_proj", "model.layers.3.mlp.up_proj",
                                  "model.layers.3.mlp.down_proj"]
    loaded = load_candidate(r.path)
    cand, base = weight_modules(loaded.model), weight_modules(smol.model)
    assert torch.equal(cand["model.layers.3.mlp.down_proj"].weight, base["model.layers.3.mlp.down_proj"].weight)
    assert not torch.equal(cand["model.layers.3.self_attn.q_proj"].weight, base["model.layers.3.self_attn.q_proj"].weight)


def test_every_fix_kind_is_some_planted_regressions_fix_and_the_kinds_round_trip():
    from kit.debug.fix import FIX_KINDS, fix_kind, make_fix
    from kit.debug.regressions import list_regressions, load_regression

    kinds = {fix_kind(load_regression(n).answer["fix"]) for n in list_regressions()}
    assert kinds == set(FIX_KINDS), "each kind of fix the drill offers is one a planted regression needs"
    for fix in ({"ignore": ["lm_head"]}, {"tokenizer": "baseline"}, {"bits": 8, "group_size": 64},
                {"calibration": "stdlib-docs-calib"}, {"samples": 64}):
        kind = fix_kind(fix)
        assert make_fix(kind=kind, value=fix.get(kind, fix)) == fix


def test_a_plants_rehearsal_size_is_the_larger_of_the_callers_and_its_own():
    from kit.debug.regressions import REHEARSAL_TOKENS, load_regression

    declared = load_regression("off-domain-calibration")
    assert declared.rehearsal_tokens and declared.rehearsal_tokens > REHEARSAL_TOKENS  # the plant that needs more
    assert declared.rehearsal_size() == declared.rehearsal_tokens == declared.rehearsal_size(128)
    assert declared.rehearsal_size(declared.rehearsal_tokens * 2) == declared.rehearsal_tokens * 2
    assert declared.rehearsal_size(None) is None  # the full sets
    default = load_regression("misscaled-down-proj")
    assert default.rehearsal_tokens is None
    assert (default.rehearsal_size(), default.rehearsal_size(64), default.rehearsal_size(None)) == (REHEARSAL_TOKENS, 64, None)
