"""Speed-only records: measure, check (bad file → one-line error, exit 2, before any work), import, join by hash."""

import json

import pytest
from helpers import BASE_SHA, synthetic_record

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import gate
from kit.govern.registry import Registry
from kit.govern.speed import SPEED_SCHEMA, check_speed_record, import_speed, join_speed, read_speed_file, speed_form, speeds_for
from tests.govern.test_gate import PPL10, _policy

Q = "9" * 64


def _speed(sha=Q, **over):
    data = {"schema": SPEED_SCHEMA, "model": {"ref": "runs/gptq", "sha256": sha, "method": "gptq", "bits": 4,
                                              "engine": {"name": "packed", "backend": "torch", "activations": "bfloat16"}},
            "hardware": {"label": "team GPU box (H100)", "device": "cuda", "gpu": "NVIDIA H100"},
            "latency": {"decode_ms_p50": 4.0, "prefill_ms": 9.0, "decode_ms_repeats": [4.1, 3.9, 4.0]},
            "throughput": {"decode_tokens_per_s": 250.0}, "memory": {"weight_bytes": 90_000_000}}
    return data | over


def _registry(path):
    base = [synthetic_record()]
    cand = [synthetic_record(sha=Q, perplexity=11.9, method="gptq", bits=4)]
    with Registry.open(path) as reg:
        return reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=_policy(PPL10)))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not a JSON speed record"),
    (json.dumps({"schema": "kit.eval/1"}), "not a kit.speed/1 speed record"),
    (json.dumps(_speed(sha="abc")), "model.sha256 must be the artifact's 64-hex weights hash"),
    (json.dumps(_speed(throughput={"decode_tokens_per_s": -3})), "decode_tokens_per_s must be a finite number > 0"),
    (json.dumps(_speed(hardware={"label": ""})), "hardware.label must name the machine"),
    (json.dumps(_speed(model=_speed()["model"] | {"engine": "turbo"})), "model.engine: unknown engine 'turbo'"),
])
def test_a_bad_speed_file_is_one_line_exit_2_before_the_registry_opens(tmp_path, capsys, content, message):
    bad = tmp_path / "speed.json"
    bad.write_text(content)
    registry = tmp_path / "r.sqlite"
    assert main(["speed", "import", str(bad), "--registry", str(registry)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not registry.exists()  # checked before any work


def test_import_joins_by_artifact_hash_and_states_the_hardware(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    entry = _registry(path)
    good = tmp_path / "gpu.json"
    good.write_text(json.dumps(_speed()))
    assert main(["speed", "import", str(good), "--registry", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"joined to entry {entry.id} (candidate)" in out and "measured on team GPU box (H100)" in out
    assert "on packed (torch, bfloat16)" in out and "decode 250.0 tok/s" in out
    with Registry.open(path) as reg:
        [stored] = speeds_for(registry=reg, sha256=Q)
        assert stored["throughput"]["decode_tokens_per_s"] == 250.0 and stored["source"] == str(good)
        assert speeds_for(registry=reg, sha256=BASE_SHA) == []
        assert import_speed(registry=reg, speed=_speed(sha=BASE_SHA))["roles"] == ["baseline"]
        with pytest.raises(KitError, match="no registry entry .* has a model or baseline of sha256 777777777777"):
            import_speed(registry=reg, speed=_speed(sha="7" * 64))
    with Registry.open(tmp_path / "empty.sqlite") as reg:
        assert speeds_for(registry=reg, sha256=Q) == []  # no speed table yet


def test_join_to_an_accuracy_record_needs_the_same_artifact(tmp_path, capsys):
    record = synthetic_record(sha=Q, method="gptq", bits=4)
    record["environment"]["hardware"] |= {"cpu": "Test CPU"}
    joined = join_speed(speed=check_speed_record(_speed(), source="x"), record=record)
    assert joined["accuracy"]["hardware"] == "Test CPU" and joined["accuracy"]["engine"] == "reference"
    assert joined["speed"]["hardware"] == "team GPU box (H100)" and joined["speed"]["engine"].startswith("packed")
    with pytest.raises(KitError, match="join records of the same artifact"):
        join_speed(speed=_speed(sha=BASE_SHA), record=record)
    files = {"s": tmp_path / "s.json", "r": tmp_path / "r.json"}
    files["s"].write_text(json.dumps(_speed()))
    files["r"].write_text(json.dumps(record))
    assert main(["speed", "join", str(files["s"]), "--record", str(files["r"])]) == 0
    assert "speed: packed (torch, bfloat16) on team GPU box (H100)" in capsys.readouterr().out


def test_speed_form_names_the_baseline_dtype():
    assert [speed_form(m) for m in ({"method": "none", "dtype": "float32"}, {"method": "none", "dtype": "bfloat16"},
                                    {"method": "gptq", "dtype": "float32"})] == ["fp32", "bf16", "gptq"]


def test_measure_writes_a_record_that_reads_back(tmp_path, capsys):
    out = tmp_path / "speed.json"
    argv = ["speed", "measure", "--model", "smollm2-135m", "--device", "cpu", "--prompt-tokens", "8",
            "--new-tokens", "3", "--repeats", "2", "--warmup", "0", "--out", str(out)]
    assert main(argv) == 0
    speed = read_speed_file(out)  # what it wrote passes the import check
    assert speed["model"]["engine"]["name"] == "reference" and speed["form"] == "fp32"
    assert len(speed["latency"]["decode_ms_repeats"]) == 2 and len(speed["latency"]["prefill_ms_repeats"]) == 2
    assert speed["hardware"]["label"].startswith("cpu (") and speed["memory"]["weight_bytes"] > 0
    assert main([*argv[:-1], str(tmp_path)]) == 2  # --out is a folder: refused before loading
    assert "is a folder" in capsys.readouterr().err
