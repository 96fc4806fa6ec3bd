"""The baseline store: add (copied or pinned), list, show, verify; never silently replaced; tampering refused on load."""

import json

import pytest
from helpers import tiny_model

from kit.baselines import read_entry, store_path
from kit.cli.main import main
from kit.errors import KitError
from kit.models import load_model, prepare_baseline, resolve_path


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A scratch KIT_CACHE (the store lives in it) and a tiny Llama-style model folder (SmolLM2's tokenizer) to add."""
    tokenizer = prepare_baseline("smollm2-135m")  # in the real cache, before the scratch one is set
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    source = tiny_model(tmp_path / "source", family="llama", tokenizer_from=tokenizer)
    (source / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Tiny\nA test model.\n")
    return source


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("mode", ["--copy", "--pin"])
def test_add_verify_and_refuse_a_bit_flip_in_any_file(mode, store, capsys, tmp_path):
    code, out, err = _run(capsys, "baseline", "add", "team-a", "--from", store, mode)
    assert code == 0, err
    info = read_entry("team-a")
    assert info["mode"] == ("pinned" if mode == "--pin" else "copied")
    assert info["source"] == {"path": str(store.resolve())} and info["dtype"] == "float32"
    assert info["license"] == "apache-2.0" and "A test model." in info["card"] and info["added_by"]
    assert {"config.json", "generation_config.json", "model.safetensors", "README.md", "tokenizer.json"} <= set(info["files"])
    assert resolve_path("team-a") == store_path("team-a")
    code, out, _ = _run(capsys, "baseline", "list")
    assert "team-a" in out and "smollm2-135m" in out and ("pinned" if mode == "--pin" else "copied") in out
    code, out, _ = _run(capsys, "baseline", "show", "team-a")
    assert code == 0 and "licence apache-2.0" in out and f"verified {len(info['files'])} files" in out
    loaded = load_model("team-a", device="cpu")
    assert loaded.info()["baseline"] == {"ref": "team-a", "sha256": info["weights_sha256"]}
    entry = store_path("team-a")
    for name in info["files"]:  # a bit flip in any file (the source itself when pinned) is refused on load
        target = (store if mode == "--pin" else entry) / name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        with pytest.raises(KitError, match=f"does not match its recorded hashes \\({name} changed"):
            load_model("team-a", device="cpu")
        assert _run(capsys, "baseline", "verify", "team-a")[0] == 2
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
    assert _run(capsys, "baseline", "verify", "team-a")[0] == 0


def test_a_baseline_is_never_silently_replaced(store, capsys, tmp_path, monkeypatch):
    assert _run(capsys, "baseline", "add", "team-a", "--from", store)[0] == 0
    before = read_entry("team-a")
    code, _, err = _run(capsys, "baseline", "add", "team-a", "--from", store)
    assert code == 2 and "already exists" in err and "--force" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((store / "config.json").read_text())
    code, _, err = _run(capsys, "baseline", "add", "team-a", "--from", broken, "--force")
    assert code == 2 and "no .safetensors weights" in err
    assert read_entry("team-a") == before  # the old one stays until a new one verifies
    import shutil

    def damaged_copy(src, dst):  # a copy that does not verify (a disk error, a source changing under the read)
        shutil.copyfile(src, dst)
        with open(dst, "ab") as f:
            f.write(b"\0")

    monkeypatch.setattr("kit.baselines.shutil.copy2", damaged_copy)
    code, _, err = _run(capsys, "baseline", "add", "team-a", "--from", store, "--force")
    assert code == 2 and "do not match the source" in err
    assert read_entry("team-a") == before and _run(capsys, "baseline", "verify", "team-a")[0] == 0
    monkeypatch.undo()
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    other = tiny_model(tmp_path / "other", family="qwen2")
    assert _run(capsys, "baseline", "add", "team-a", "--from", other, "--force")[0] == 0
    assert read_entry("team-a")["description"].startswith("Qwen2ForCausalLM")


def test_remote_code_hub_and_names_are_refused_before_any_work(store, capsys, monkeypatch):
    config = json.loads((store / "config.json").read_text())
    (store / "config.json").write_text(json.dumps(config | {"auto_map": {"AutoModelForCausalLM": "m.Model"}}))
    (store / "m.py").write_text("class Model: ...\n")
    code, _, err = _run(capsys, "baseline", "add", "custom", "--from", store)
    assert code == 2 and "ships its own modelling code" in err and "--trust-remote-code" in err
    assert store_path("custom") is None
    assert _run(capsys, "baseline", "add", "custom", "--from", store, "--trust-remote-code")[0] == 0
    assert read_entry("custom")["trust_remote_code"] is True and "m.py" in read_entry("custom")["files"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = _run(capsys, "baseline", "add", "hub-model", "--from", "org/model")
    assert code == 2 and "hub is offline" in err and "--from FOLDER" in err and len(err.splitlines()) == 1
    for name, says in (("smollm2-135m", "embedded model's name"), ("Big/Model", "must be lowercase"),
                       ("list", "must be lowercase")):
        code, _, err = _run(capsys, "baseline", "add", name, "--from", store, "--trust-remote-code")
        assert code == 2 and says in err
    code, _, err = _run(capsys, "baseline", "verify", "nobody")
    assert code == 2 and "kit baseline add nobody --from FOLDER" in err


def test_a_bf16_model_stays_bf16_on_disk(store, capsys, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    bf16 = tmp_path / "bf16"
    shutil.copytree(store, bf16)
    weights = {k: v.to(torch.bfloat16) for k, v in load_file(bf16 / "model.safetensors").items()}
    save_file(weights, str(bf16 / "model.safetensors"), metadata={"format": "pt"})
    assert _run(capsys, "baseline", "add", "half", "--from", bf16)[0] == 0
    assert read_entry("half")["dtype"] == "bfloat16"
    stored = store_path("half") / "model.safetensors"
    assert stored.read_bytes() == (bf16 / "model.safetensors").read_bytes()  # copied as is, never re-saved
