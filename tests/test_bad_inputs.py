"""The bad-input catalogue (issue 10): every case drives the real CLI and checks exit code, message and that nothing changed.

The contract (docs/reliability.md): a user error is one line ``error: ...`` naming the fix and
exit 2, found before any model or tokenizer loads; exit 1 only for a failed gate/pilot; exit 3
for an internal error; no traceback unless ``--debug``. The ``no_load`` fixture fails a case
if transformers starts loading anything, so "checked before work" is asserted, not timed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import scratch

from kit.cli.main import main
from kit.model_files import BASELINE_FILE, QUANT_FILE, manifest, weights_sha256

REPO = Path(__file__).resolve().parents[1]


# --- helpers -------------------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``kit ARGV`` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    """The single ``error:`` line on stderr (anything else on stderr fails the case)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder below ``root`` (hidden ones too) with its content hash."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def no_load(monkeypatch):
    """Fail the case if a model, tokenizer or config starts loading (bad input must be refused first)."""
    import transformers

    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("transformers started loading before the bad input was refused")

    for cls in (transformers.AutoModelForCausalLM, transformers.AutoTokenizer, transformers.AutoConfig):
        monkeypatch.setattr(cls, "from_pretrained", refuse)
    yield calls
    assert not calls, "a model was loaded before the error"


def model_folder(root: Path, *, log: str | None = "baseline", max_positions: int = 64) -> Path:
    """A small folder shaped like a baseline or artifact (real safetensors, config, tokenizer file, kit log)."""
    import numpy as np
    from safetensors.numpy import save_file

    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16, "intermediate_size": 32,
        "num_hidden_layers": 30, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 64,
        "max_position_embeddings": max_positions}))
    (root / "generation_config.json").write_text('{"bos_token_id": 0}')
    (root / "tokenizer.json").write_text('{"version": "1.0"}')
    save_file({"w": np.arange(64, dtype=np.float32)}, str(root / "model.safetensors"))
    files = manifest(root)
    if log == "baseline":
        (root / BASELINE_FILE).write_text(json.dumps({"alias": "smollm2-135m", "source": {"sha256": "0" * 64},
                                                      "weights_sha256": weights_sha256(files), "files": files}))
    elif log == "artifact":
        (root / QUANT_FILE).write_text(json.dumps({"method": "rtn", "bits": 4, "baseline": {"ref": "smollm2-135m"},
                                                   "weights_sha256": weights_sha256(files), "files": files}))
    return root


@pytest.fixture
def base(tmp_path_factory) -> Path:
    """A verified small baseline folder, outside the case's tmp_path."""
    with scratch(tmp_path_factory, "models") as folder:
        yield model_folder(folder / "base")


def flip_bit(path: Path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# --- 2. nothing lost, ever ----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["notes", "cache", "cache-parent", "artifact-with-notes"])
def test_overwrite_replaces_only_a_kit_artifact(target, tmp_path, base, capsys, monkeypatch, no_load):
    home = tmp_path / "home"
    cache = home / "cache"
    (cache / "baselines").mkdir(parents=True)
    (cache / "registry.sqlite").write_bytes(b"registry rows")
    monkeypatch.setenv("KIT_CACHE", str(cache))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ideas.md").write_text("my notes")
    artifact = model_folder(tmp_path / "artifact", log="artifact")
    (artifact / "notes.txt").write_text("added by hand")
    out = {"notes": notes, "cache": cache, "cache-parent": home, "artifact-with-notes": artifact}[target]
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--out", out, "--overwrite")
    line = one_error(err)
    assert code == 2
    expected = {"notes": "is not a kit artifact (no kit-quantization.json)", "cache": "is or holds the kit cache",
                "cache-parent": "is or holds the kit cache", "artifact-with-notes": "files the kit did not write (notes.txt)"}
    assert expected[target] in line and "choose another --out" in line
    assert snapshot(tmp_path) == before


def test_overwrite_does_replace_a_kit_artifact(tmp_path):
    from kit.io import atomic_dir

    artifact = model_folder(tmp_path / "artifact", log="artifact")
    with atomic_dir(artifact, overwrite=True, marker=QUANT_FILE) as tmp:
        (tmp / QUANT_FILE).write_text("{}")
    assert sorted(p.name for p in artifact.iterdir()) == [".kit-folder.json", QUANT_FILE]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]  # no lock, partial or replaced folder left


def test_overwrite_of_other_kit_folders_needs_the_kit_stamp(tmp_path):
    from kit.errors import KitError
    from kit.io import atomic_dir

    with atomic_dir(tmp_path / "report") as tmp:  # e.g. a report folder: no kit log, but stamped
        (tmp / "index.html").write_text("v1")
    with atomic_dir(tmp_path / "report", overwrite=True) as tmp:
        (tmp / "index.html").write_text("v2")
    assert (tmp_path / "report" / "index.html").read_text() == "v2"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "index.html").write_text("hand-written")
    with pytest.raises(KitError, match="no .kit-folder.json"), atomic_dir(tmp_path / "mine", overwrite=True):
        pass
    assert (tmp_path / "mine" / "index.html").read_text() == "hand-written"


def test_second_writer_into_the_same_out_fails_at_once(tmp_path, base, capsys, no_load):
    out = tmp_path / "art"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom kit.io import writer_lock\n"
         "with writer_lock(sys.argv[1]):\n    print('locked', flush=True)\n    time.sleep(120)", str(out)],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(tmp_path)
        code, _, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--out", out)
        line = one_error(err)
        assert code == 2
        assert f"another kit run (pid {holder.pid}) is writing" in line and "choose another --out" in line
        assert snapshot(tmp_path) == before and not out.exists()
    finally:
        holder.kill()
        holder.wait()


def test_stale_partial_folders_of_dead_processes_are_cleaned(tmp_path, base, capsys, no_load):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".art.partial-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x" * 1000)
    alive = tmp_path / ".art.partial-1-keepme"  # pid 1 is running: never touched
    alive.mkdir()
    foreign = tmp_path / ".art.partial-notapid"  # not named by the kit: never touched
    foreign.mkdir()
    code, out, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--bits", "3", "--out", tmp_path / "art")
    assert code == 2 and "supports bits" in one_error(err)
    assert not stale.exists() and alive.exists() and foreign.exists()
    assert f"[cleanup] removed {stale}, left by an interrupted run" in out


def test_interrupted_atomic_dir_leaves_only_a_partial_named_by_pid(tmp_path):
    import os

    from kit.io import atomic_dir

    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "art") as tmp:
        assert tmp.name.startswith(f".art.partial-{os.getpid()}-")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, flag", [
    (["eval", "--model", "smollm2-135m", "--eval", "stdlib-docs", "--json", "{file}/x.json"], "--json"),
    (["eval", "--model", "smollm2-135m", "--eval", "stdlib-docs", "--json", "{dir}"], "--json"),
    (["demo", "--json", "{file}/deeper/x.json"], "--json"),
    (["quantize", "--model", "{base}", "--method", "rtn", "--out", "{file}/art"], "--out"),
    (["compare", "--model", "{base}", "--eval", "stdlib-docs", "--out-dir", "{file}"], "--out-dir"),
    (["pilot", "--model", "{base}", "--use-case", "chat-assistant", "--json", "{file}/p.json"], "--json"),
])
def test_unwritable_outputs_are_found_before_the_work(argv, flag, tmp_path, base, capsys, no_load):
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "dir").mkdir()
    before = snapshot(tmp_path)
    fill = {"file": tmp_path / "file", "dir": tmp_path / "dir", "base": base}
    code, _, err = run(capsys, *[a.format(**fill) for a in argv])
    line = one_error(err)
    assert code == 2 and line.startswith(f"error: {flag} ") and ("choose" in line or "give a file name" in line)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("content", ["sqlite-app", "text"])
def test_a_foreign_file_as_registry_is_refused_unchanged(content, tmp_path, capsys):
    db = tmp_path / "other.db"
    if content == "sqlite-app":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
        conn.commit()
        conn.close()
    else:
        db.write_text("not a database at all\n" * 200)
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "registry", "list", "--registry", db)
    line = one_error(err)
    assert code == 2 and "kit registry" in line and ("KIT_REGISTRY" in line)
    assert snapshot(tmp_path) == before  # same bytes, and no -wal/-shm files appeared


# --- 3. a baseline manifest ---------------------------------------------------------------------


@pytest.fixture
def cached(tmp_path, monkeypatch) -> Path:
    """A small baseline in a scratch KIT_CACHE, where `kit baseline` looks for smollm2-135m."""
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    return model_folder(tmp_path / "cache" / "baselines" / "smollm2-135m")


def test_kit_baseline_verifies_every_file(cached, capsys, no_load):
    code, out, _ = run(capsys, "baseline")
    assert code == 0 and "verified 4 files" in out


@pytest.mark.parametrize("damage, says", [
    ("flip-weights", "model.safetensors changed"),
    ("config-2-layers", "config.json changed"),
    ("tokenizer", "tokenizer.json changed"),
    ("extra-file", "tokenizer.model added"),
    ("missing-file", "generation_config.json missing"),
    ("no-manifest", "prepared by an older kit"),
    ("log-not-json", "is damaged (not valid JSON)"),
    ("log-not-utf8", "is damaged (not UTF-8)"),
])
def test_kit_baseline_refuses_a_changed_baseline(damage, says, cached, capsys, no_load):
    log = cached / BASELINE_FILE
    if damage == "flip-weights":
        flip_bit(cached / "model.safetensors")
    elif damage == "config-2-layers":
        config = json.loads((cached / "config.json").read_text())
        (cached / "config.json").write_text(json.dumps(config | {"num_hidden_layers": 2}))
    elif damage == "tokenizer":
        (cached / "tokenizer.json").write_text('{"version": "2.0"}')
    elif damage == "extra-file":
        (cached / "tokenizer.model").write_bytes(b"spm")
    elif damage == "missing-file":
        (cached / "generation_config.json").unlink()
    elif damage == "no-manifest":
        data = json.loads(log.read_text())
        del data["files"]
        log.write_text(json.dumps(data))
    elif damage == "log-not-json":
        log.write_text(log.read_text()[:40])
    else:
        log.write_bytes(b"\xff\xfe" + log.read_bytes())
    before = snapshot(cached)
    code, _, err = run(capsys, "baseline")
    line = one_error(err)
    fix = "move the added file(s) out" if damage == "extra-file" else "`kit baseline smollm2-135m --force`"
    assert code == 2 and says in line and fix in line
    assert snapshot(cached) == before


def test_a_changed_baseline_is_refused_before_evaluation(base, capsys, no_load):
    config = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps(config | {"num_hidden_layers": 2}))
    code, _, err = run(capsys, "eval", "--model", base, "--eval", "stdlib-docs", "--context-length", "32")
    line = one_error(err)
    assert code == 2 and "config.json changed" in line and "--force" in line


def test_an_artifact_verifies_its_own_files(tmp_path, capsys, no_load):
    artifact = model_folder(tmp_path / "artifact", log="artifact")
    (artifact / "tokenizer.json").write_text('{"version": "edited"}')
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "eval", "--model", artifact, "--eval", "stdlib-docs", "--context-length", "32",
                       "--no-baseline")
    line = one_error(err)
    assert code == 2 and f"artifact {artifact} does not match" in line and "tokenizer.json changed" in line
    assert "kit quantize" in line
    assert snapshot(tmp_path) == before


def test_a_truncated_artifact_log_is_a_clean_error(tmp_path, capsys, no_load):
    artifact = model_folder(tmp_path / "artifact", log="artifact")
    log = artifact / QUANT_FILE
    log.write_text(log.read_text()[:30])
    code, _, err = run(capsys, "eval", "--model", artifact, "--eval", "stdlib-docs", "--context-length", "32")
    line = one_error(err)
    assert code == 2 and "kit-quantization.json is damaged (not valid JSON)" in line and "kit quantize" in line


def test_quantize_refuses_a_changed_baseline(base, tmp_path, capsys, no_load):
    flip_bit(base / "model.safetensors")
    code, _, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--out", tmp_path / "art")
    assert code == 2 and "model.safetensors changed" in one_error(err)
    assert not (tmp_path / "art").exists()


def test_truncated_safetensors_is_a_clean_error(tmp_path, capsys):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=64, max_position_embeddings=64)
    folder = tmp_path / "plain"  # a plain checkpoint without a kit log: nothing recorded to verify against
    with torch.device("cpu"):
        LlamaForCausalLM(config).save_pretrained(folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    code, _, err = run(capsys, "eval", "--model", folder, "--eval", "stdlib-docs", "--context-length", "32",
                       "--device", "cpu")
    line = one_error(err)
    assert code == 2 and "weights file is damaged" in line and "re-create" in line


# --- 4. arguments and files checked before work --------------------------------------------------

EVAL = ["eval", "--model", "smollm2-135m", "--eval", "stdlib-docs"]


@pytest.mark.parametrize("argv, says", [
    (EVAL + ["--context-length", "0"], "--context-length must be ≥ 2, got 0"),
    (EVAL + ["--context-length", "1"], "--context-length must be ≥ 2, got 1"),
    (EVAL + ["--stride", "0"], "--stride must be ≥ 1, got 0"),
    (EVAL + ["--stride", "600"], "--stride 600 is longer than --context-length 512"),
    (EVAL + ["--batch-size", "0"], "--batch-size must be ≥ 1, got 0"),
    (EVAL + ["--repeats", "0"], "--repeats must be ≥ 1, got 0"),
    (EVAL + ["--max-tokens", "1"], "--max-tokens must be ≥ 2, got 1"),
    (EVAL + ["--max-tokens", "-5"], "--max-tokens must be ≥ 2, got -5"),
    (EVAL + ["--limit", "0"], "--limit must be ≥ 1, got 0"),
    (EVAL + ["--limit", "-3"], "--limit must be ≥ 1, got -3"),
    (EVAL + ["--device", "gpu"], "unknown device 'gpu'; use --device cpu, cuda or cuda:N"),
    (EVAL + ["--context-length", "100000"], "exceeds the model's maximum of"),
    (EVAL + ["--context-length", "abc"], "invalid int value: 'abc'; see `kit eval --help`"),
    (["demo", "--batch-size", "-1"], "--batch-size must be ≥ 1"),
    (["quantize", "--model", "smollm2-135m", "--method", "gptq", "--out", "{tmp}/q", "--samples", "0"],
     "--samples must be ≥ 1, got 0"),
    (["quantize", "--model", "smollm2-135m", "--method", "gptq", "--out", "{tmp}/q", "--seq-len", "0"],
     "--seq-len must be ≥ 1, got 0"),
    (["compare", "--model", "smollm2-135m", "--eval", "stdlib-docs", "--limit", "0"], "--limit must be ≥ 1"),
    (["pilot", "--model", "smollm2-135m", "--use-case", "chat-assistant", "--limit", "-1"], "--limit must be ≥ 1"),
    (["pilot", "--model", "smollm2-135m", "--use-case", "chat-assistant", "--max-tokens", "1"], "--max-tokens must be ≥ 2"),
])
def test_numeric_flags_are_checked_before_work(argv, says, tmp_path, capsys, no_load):
    before = snapshot(tmp_path)
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and says in one_error(err)
    assert snapshot(tmp_path) == before


def test_cuda_without_a_gpu_is_refused(capsys, no_load):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    code, _, err = run(capsys, *EVAL, "--device", "cuda")
    assert code == 2 and "no CUDA GPU is visible; use --device cpu" in one_error(err)


def test_context_above_the_model_maximum_is_read_from_config(base, capsys, no_load):
    code, _, err = run(capsys, "eval", "--model", base, "--eval", "stdlib-docs", "--context-length", "128")
    assert code == 2 and "exceeds the model's maximum of 64 tokens" in one_error(err)


@pytest.mark.parametrize("name, content, says", [
    ("latin1.jsonl", '{"text": "caf\xe9"}\n'.encode("latin-1"), "latin1.jsonl:1: not UTF-8 (byte 0xe9)"),
    ("latin1.txt", "na\xefve text".encode("latin-1"), "not UTF-8"),
    ("truncated.jsonl", b'{"text": "one"}\n{"text": "tw', "truncated.jsonl:2: not valid JSON"),
    ("aliases.jsonl", b'{"prompt": "Capital of the USA?", "reference": "Washington, D.C.", "aliases": "Washington"}\n',
     "'aliases', if given, a list of non-empty strings"),
    ("aliases-ints.jsonl", b'{"prompt": "2+2?", "reference": "4", "aliases": [4]}\n', "list of non-empty strings"),
    ("huge-int.jsonl", b'{"text": "x", "n": ' + b"9" * 5000 + b"}\n", "huge-int.jsonl:1: not valid JSON"),
    ("nested.jsonl", b"[" * 100000 + b"\n", "nested.jsonl:1: not valid JSON"),
])
def test_bad_eval_set_files_are_refused_before_the_model_loads(name, content, says, tmp_path, capsys, no_load):
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "eval", "--model", "smollm2-135m", "--eval", path, "--json", tmp_path / "out.json")
    assert code == 2 and says in one_error(err)
    assert snapshot(tmp_path) == before


def test_aliases_string_is_no_longer_scored_letter_by_letter(tmp_path):
    from kit.errors import KitError
    from kit.eval.sets import load_set

    path = tmp_path / "gen.jsonl"
    path.write_text('{"prompt": "Capital?", "reference": "Washington, D.C.", "aliases": "Washington"}\n')
    with pytest.raises(KitError, match="aliases"):
        load_set(path)


def _records(tmp_path: Path, make_record) -> tuple[Path, Path]:
    base, cand = tmp_path / "base.json", tmp_path / "cand.json"
    base.write_text(json.dumps([make_record(kind=k) for k in ("text", "multiple_choice", "generation")]))
    cand.write_text(json.dumps([make_record(kind=k, sha="c" * 64, method="rtn") for k in
                                ("text", "multiple_choice", "generation")]))
    return base, cand


@pytest.mark.parametrize("policy, says", [
    ("latin1", "not UTF-8 (byte 0xe9"),
    ("unknown-top", "unknown top-level key(s) owner"),
    ("unknown-use-case-key", "unknown key(s) sanctioned_by"),
    ("unknown-metric-key", "unknown key(s) notes"),
    ("bad-date", "not a valid policy file (ValueError"),
    ("mixed-keys", "unknown top-level key(s) 1, extra"),
])
def test_bad_policy_files_are_refused_naming_the_key(policy, says, tmp_path, capsys, make_record):
    text = (REPO / "policies" / "tolerances.yaml").read_text(encoding="utf-8")
    if policy == "latin1":
        data = ("# caf\xe9\n" + text).encode("latin-1", errors="replace")
    elif policy == "unknown-top":
        data = (text + "\nowner: me\n").encode()
    elif policy == "unknown-use-case-key":
        data = text.replace("    default_method:", "    sanctioned_by: me\n    default_method:", 1).encode()
    elif policy == "unknown-metric-key":
        data = text.replace("        min_samples:", "        notes: hi\n        min_samples:", 1).encode()
    elif policy == "bad-date":
        data = (text + "\nwhen: 2026-13-40\n").encode()
    else:
        data = (text + "\n1: one\nextra: two\n").encode()
    path = tmp_path / "policy.yaml"
    path.write_bytes(data)
    base, cand = _records(tmp_path, make_record)
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "gate", "--baseline", base, "--candidate", cand, "--use-case", "chat-assistant",
                       "--policies", path)
    assert code == 2 and says in one_error(err)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("content, says", [
    (b"\xff\xfe{}", "is not UTF-8 text"),
    (b'{"schema": "kit.eval/1", "model": {', "is not JSON"),
    (b"[]", "holds an empty list"),
    (b'{"schema": "kit.eval/1"}', "record lacks model, eval_set, protocol, accuracy"),
    (b'{"schema": "kit.eval/1", "model": {}, "eval_set": {}, "protocol": {}, "accuracy": {}}', "its model lacks ref"),
    (b'[{"schema": "kit.eval/2"}]', "item 1: not a kit.eval/1 harness record"),
])
def test_bad_record_files_are_refused(content, says, tmp_path, capsys, make_record):
    base, _ = _records(tmp_path, make_record)
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "gate", "--baseline", base, "--candidate", bad, "--use-case", "chat-assistant",
                       "--json", tmp_path / "verdict.json")
    line = one_error(err)
    assert code == 2 and says in line and "kit eval --json" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("how", ["HF_HUB_OFFLINE", "no-network"])
def test_offline_a_missing_local_path_is_not_tried_on_the_hub(how, capsys, monkeypatch, no_load):
    import socket

    if how == "HF_HUB_OFFLINE":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

        def unreachable(*args, **kwargs):
            raise OSError("network is unreachable")

        monkeypatch.setattr(socket, "create_connection", unreachable)
    code, _, err = run(capsys, "eval", "--model", "runs/gptqq", "--eval", "stdlib-docs", "--device", "cpu")
    line = one_error(err)
    assert code == 2 and "model folder 'runs/gptqq' not found (offline" in line and "check the path" in line


@pytest.mark.parametrize("ref", ["./runs/gptqq", "~/runs/gptqq", "runs/a/gptqq"])
def test_a_path_that_looks_local_is_never_a_hub_id(ref, capsys, no_load):
    code, _, err = run(capsys, "eval", "--model", ref, "--eval", "stdlib-docs", "--device", "cpu")
    assert code == 2 and "not found" in one_error(err)


def test_exercises_check_outside_the_repository_checks_something(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "exercises", "check")
    assert code == 2 and "found no solutions folder" in one_error(err) and "in sync" not in out


# --- 5. one error contract ----------------------------------------------------------------------


def test_usage_errors_are_one_line_without_usage_dump(capsys):
    code, out, err = run(capsys, "eval", "--model", "smollm2-135m")
    assert code == 2 and out == ""
    assert one_error(err) == "error: the following arguments are required: --eval; see `kit eval --help`"
    assert "usage:" not in err


def test_a_bug_is_exit_3_with_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    import kit.eval.sets

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(kit.eval.sets, "bundled_sets", broken)
    code, _, err = run(capsys, "sets")
    assert code == 3 and one_error(err).startswith("error: internal error (RuntimeError: boom); this is a bug")
    assert "--debug" in err
    code, _, err = run(capsys, "sets", "--debug")
    assert code == 3 and "Traceback" in err and "RuntimeError: boom" in err


def test_debug_shows_the_traceback_of_a_user_error_too(capsys):
    code, _, err = run(capsys, "--debug", "eval", "--model", "smollm2-135m", "--eval", "nope")
    assert code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("error: eval set 'nope'")


def test_the_installed_entry_point_keeps_the_contract():
    proc = subprocess.run([sys.executable, "-m", "kit", "eval", "--model", "smollm2-135m", "--eval", "stdlib-docs",
                           "--context-length", "0"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: --context-length must be ≥ 2, got 0 (a perplexity window needs a token of context and one to score)"]


@pytest.mark.parametrize("field, value", [("limit", 0), ("limit", -1), ("max_tokens", 1), ("batch_size", 0),
                                          ("latency_repeats", 0), ("context_length", 1), ("stride", 0)])
def test_the_library_protocol_refuses_what_the_flags_refuse(field, value):
    from kit.errors import KitError
    from kit.eval.harness import Protocol

    with pytest.raises(KitError, match=f"{field} .* must be an integer ≥"):
        Protocol(**{field: value})
