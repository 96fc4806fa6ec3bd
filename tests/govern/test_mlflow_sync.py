"""The registry mirrored into MLflow: a real MLflow client on SQLite in a temp folder, read back through MLflow's own client."""

import shutil

import pytest
from helpers import scratch, synthetic_record

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.gate import gate
from kit.govern.policy import MetricLimit, UseCasePolicy
from kit.govern.registry import Registry

mlflow = pytest.importorskip("mlflow", reason="MLflow is an optional extra: pip install '.[mlflow]'")

from kit.govern.mlflow_check import check_mirror  # noqa: E402 — after the skip: these need MLflow
from kit.govern.mlflow_sync import export_registry, mirror_if_configured  # noqa: E402
from kit.govern.mlflow_target import mask_uri, open_client  # noqa: E402

POLICY = UseCasePolicy(
    name="chat-assistant", description="test", default_method="bnb-int8", eval_sets=("stdlib-docs",),
    metrics=(MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative",
                         limit=0.10, min_samples=1),))
CURRENT = {"packages": {"torch": "2.13.0+cpu", "transformers": "5.17.0"}, "device": "cpu", "gpu": None,
           "cuda_version": None}
UPGRADED = CURRENT | {"packages": {"torch": "2.14.0+cpu", "transformers": "5.17.0"}}
ALIAS = "validated-chat-assistant"
QMODEL = "smollm2-135m-quantized"


def _pair(*, ppl, sha, torch_version="2.13.0+cpu"):
    base = [synthetic_record(torch_version=torch_version)]
    cand = [synthetic_record(sha=sha, perplexity=ppl, method="rtn", bits=4, torch_version=torch_version)]
    cand[0]["model"]["engine"] = {"name": "packed", "backend": "torch", "activations": "float32"}
    cand[0]["latency"] = {"prompt_tokens": 128, "ttft_ms": 120.0, "decode_ms_p50": 41.5, "decode_ms_p95": None}
    cand[0]["throughput"] |= {"decode_tokens_per_s": 24.1}  # the keys kit.eval.timing writes
    return base, cand


def _add(reg, *, ppl, sha):
    base, cand = _pair(ppl=ppl, sha=sha)
    config = {"method": "rtn", "bits": 4, "group_size": 64, "files": {"model.safetensors": sha},
              "calibration": {"name": "stdlib-docs", "sha256": "d" * 64, "samples": 8, "seq_len": 128}}
    return reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=POLICY),
                   quant_config=config)


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """One migrated MLflow SQLite store per module (migrations take seconds); each test copies it."""
    with scratch(tmp_path_factory, "mlflow") as folder:
        open_client(f"sqlite:///{folder / 'empty.db'}")
        yield folder / "empty.db"


@pytest.fixture
def world(empty_store, tmp_path):
    """A registry holding a pass, a fail and an inconclusive entry, and a fresh MLflow store."""
    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    reg = Registry.open(tmp_path / "registry.sqlite")
    entries = {"pass": _add(reg, ppl=12.0, sha="a" * 64), "fail": _add(reg, ppl=14.0, sha="c" * 64),
               "inconclusive": _add(reg, ppl=12.88, sha="e" * 64)}
    assert {k: e.verdict["decision"] for k, e in entries.items()} == {k: k for k in entries}
    yield reg, uri, entries
    reg.close()


def _runs(client, kind="entry"):
    exp = client.get_experiment_by_name("kit/smollm2-135m")
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`kit.run_kind` = '{kind}'")


def test_export_lands_runs_versions_lineage_and_the_alias_only_on_the_pass(world, tmp_path, monkeypatch):
    reg, uri, entries = world
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # MLflow's default would be ./mlruns here
    done = export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)
    assert list((tmp_path / "cwd").iterdir()) == [] and (tmp_path / "mlflow-artifacts" / "kit-smollm2-135m").is_dir()
    assert done["created"] == {"runs": 3, "versions": 4, "models": 2, "experiments": 1}
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    runs = {r.data.tags["kit.entry_id"]: r for r in _runs(client)}
    assert set(runs) == {e.id for e in entries.values()}
    for name, e in entries.items():
        run = runs[e.id]
        assert run.data.tags["kit.decision"] == name and run.data.tags["kit.export_state"] == "complete"
        assert run.data.tags["kit.decision.stdlib-docs.perplexity"] == e.verdict["metrics"][0]["status"]
        assert run.data.tags["kit.base_sha256"] == "b" * 64 and run.data.tags["kit.use_case"] == "chat-assistant"
        assert run.data.params.items() >= {"method": "rtn", "bits": "4", "group_size": "64", "calibration.samples": "8",
                                           "engine": "packed (torch, float32)", "calibration.name": "stdlib-docs"}.items()
        m = run.data.metrics
        assert m["stdlib-docs.perplexity.value"] == pytest.approx(e.verdict["metrics"][0]["value"])
        assert m["stdlib-docs.perplexity.change_lower"] < m["stdlib-docs.perplexity.change_upper"]
        assert m["stdlib-docs.latency.decode_ms_p50"] == 41.5 and m["stdlib-docs.throughput.decode_tokens_per_s"] == 24.1
        assert "stdlib-docs.latency.decode_ms_p95" not in m  # not measured: no metric rather than a made-up one
        assert m["stdlib-docs.memory.peak_rss_mib"] == pytest.approx(10**9 / 2**20)
        files = {a.path for a in client.list_artifacts(run.info.run_id, "kit")}
        assert {"kit/configuration.json", "kit/verdict.json", "kit/records"} <= files
        records = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/kit/records/candidate.json")
        assert records[0]["accuracy"]["per_window"]["nll"], "per-item outcomes travel with the run"
    versions = {v.tags["kit.sha256"]: v for v in client.search_model_versions(f"name = '{QMODEL}'")}
    assert set(versions) == {"a" * 64, "c" * 64, "e" * 64}
    assert {v.tags["quantized_from"] for v in versions.values()} == {"models:/smollm2-135m/1"}
    assert client.get_model_version("smollm2-135m", "1").tags["kit.sha256"] == "b" * 64
    assert all(v.tags["kit.weights"] == "by-reference" and v.source.endswith("/model-reference") for v in versions.values())
    assert client.get_registered_model(QMODEL).aliases == {ALIAS: int(versions["a" * 64].version)}
    assert check_mirror(registry=reg, tracking_uri=uri, stack=CURRENT) == []

    again = export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)  # a no-op
    assert again["created"] == dict.fromkeys(("runs", "versions", "models", "experiments"), 0)
    assert again["aliases_set"] == again["aliases_removed"] == []
    assert len(_runs(client)) == 3 and len(client.search_model_versions(f"name = '{QMODEL}'")) == 3


def test_a_failing_revalidation_on_a_new_stack_moves_the_alias_off_and_nests_under_the_entry(world):
    reg, uri, entries = world
    export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert ALIAS in client.get_registered_model(QMODEL).aliases
    assert check_mirror(registry=reg, tracking_uri=uri, stack=UPGRADED)[-1].startswith(f"{QMODEL}@{ALIAS} is set")
    promoted = reg.promote(entries["pass"].id, stack=CURRENT)  # the kit's own alias is mirrored too
    base, cand = _pair(ppl=14.0, sha="a" * 64, torch_version="2.14.0+cpu")
    v = reg.record_validation(entry_id=promoted.id, verdict=gate(baseline=base, candidate=cand, policy=POLICY),
                              evals={"baseline": base, "candidate": cand})
    done = export_registry(registry=reg, tracking_uri=uri, stack=UPGRADED, progress=False)
    assert done["created"]["runs"] == 1 and done["aliases_removed"] == [f"{QMODEL}@{ALIAS}"]
    assert client.get_registered_model(QMODEL).aliases == {"champion-chat-assistant": 1}
    nested = _runs(client, "revalidation")
    assert [r.data.tags["kit.validation_id"] for r in nested] == [v.id]
    parent = {r.data.tags["kit.entry_id"]: r for r in _runs(client)}[promoted.id]
    assert nested[0].data.tags["mlflow.parentRunId"] == parent.info.run_id and nested[0].data.tags["kit.decision"] == "fail"
    assert '"torch": "2.14.0+cpu"' in nested[0].data.tags["kit.stack"]
    assert check_mirror(registry=reg, tracking_uri=uri, stack=UPGRADED) == []


def test_an_interrupted_export_resumes_without_duplicates(world, monkeypatch):
    reg, uri, entries = world
    real, calls = mlflow.MlflowClient.log_artifacts, []

    def flaky(self, run_id, local_dir, artifact_path=None):
        calls.append(run_id)
        if len(calls) == 2:
            raise mlflow.exceptions.MlflowException("disk full")
        return real(self, run_id, local_dir, artifact_path)

    monkeypatch.setattr(mlflow.MlflowClient, "log_artifacts", flaky)
    with pytest.raises(KitError, match="disk full"):
        export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert [r.data.tags["kit.export_state"] for r in _runs(client)].count("partial") == 1
    assert len(check_mirror(registry=reg, tracking_uri=uri, stack=CURRENT)) > 0
    export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)
    assert sorted(r.data.tags["kit.export_state"] for r in _runs(client)) == ["complete"] * 3
    assert check_mirror(registry=reg, tracking_uri=uri, stack=CURRENT) == []


def test_cli_export_import_check_and_bad_uris(world, tmp_path, capsys):
    reg, uri, entries = world
    where = ["--registry", str(tmp_path / "registry.sqlite")]
    assert main(["registry", "export", *where, "--mlflow", uri]) == 0
    assert "exported 3 entries" in capsys.readouterr().out
    assert main(["registry", "import-check", *where, "--mlflow", uri]) == 0
    assert "matches the registry (3 entries)" in capsys.readouterr().out
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.delete_run(_runs(client)[0].info.run_id)
    assert main(["registry", "import-check", *where, "--mlflow", uri]) == 1  # a failed check, like a failed gate
    assert "no MLflow run (recorded as exported in run" in capsys.readouterr().out
    for bad in ("http://ada:s3cret@127.0.0.1:9", f"sqlite:///{tmp_path}/missing/m.db",
                f"sqlite:///{tmp_path / 'registry.sqlite'}"):
        before = (tmp_path / "registry.sqlite").read_bytes()
        assert main(["registry", "export", *where, "--mlflow", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "s3cret" not in err
        assert (tmp_path / "registry.sqlite").read_bytes() == before  # nothing done, a foreign file untouched
    assert "cannot reach MLflow at http://***@127.0.0.1:9" in (main(["registry", "import-check", *where, "--mlflow",
                                                                     "http://ada:s3cret@127.0.0.1:9"]) and
                                                                capsys.readouterr().err)


def test_pilots_mirror_when_kit_mlflow_uri_is_set(world, monkeypatch, capsys):
    reg, uri, entries = world
    monkeypatch.setenv("KIT_MLFLOW_URI", "http://127.0.0.1:9")
    mirror_if_configured(registry=reg, entry_ids=[entries["pass"].id], stack=CURRENT)  # warns, never fails a pilot
    assert "not mirrored (cannot reach MLflow" in capsys.readouterr().out
    monkeypatch.setenv("KIT_MLFLOW_URI", uri)
    mirror_if_configured(registry=reg, entry_ids=[entries["fail"].id], stack=CURRENT)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)  # the pass earns the alias: it is exported too
    assert {r.data.tags["kit.entry_id"] for r in _runs(client)} == {entries["fail"].id, entries["pass"].id}
    assert client.get_registered_model(QMODEL).aliases == {ALIAS: 2}  # versions in export order: fail 1, pass 2
    assert "[mlflow] mirrored" in capsys.readouterr().out


def test_uploads_weights_only_when_asked_attaches_reports_and_refuses_foreign_models(empty_store, tmp_path):
    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    folder = tmp_path / "rtn-w4"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.html").write_text("<h1>pilot</h1>")
    with Registry.open(tmp_path / "registry.sqlite") as reg:
        base = [synthetic_record()]
        cand = [synthetic_record(sha="a" * 64, perplexity=12.0, method="rtn", bits=4, ref=str(folder))]
        entry = reg.add(baseline=base, candidate=cand, verdict=gate(baseline=base, candidate=cand, policy=POLICY))
        reg.attach_report(entry_ids=[entry.id], summary={"decision": "rtn"}, path=str(tmp_path / "report"))
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.create_registered_model("smollm2-135m")  # a team's own model of the same name
        with pytest.raises(KitError, match="'smollm2-135m' that the kit did not create"):
            export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False)
        assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []  # nothing written
        client.delete_registered_model("smollm2-135m")
        export_registry(registry=reg, tracking_uri=uri, stack=CURRENT, progress=False, upload_weights=True)
    run = _runs(client)[0]
    assert {a.path for a in client.list_artifacts(run.info.run_id, "weights")} == {"weights/model.safetensors"}
    reports = [a.path for a in client.list_artifacts(run.info.run_id, "kit/reports")]
    assert {a.path.rpartition("/")[2] for a in client.list_artifacts(run.info.run_id, reports[0])} == {
        "report.html", "summary.json"}
    version = client.get_model_version(QMODEL, "1")
    assert version.source.endswith("/weights") and version.tags["kit.weights"] == "uploaded"


def test_mask_uri_and_a_missing_mlflow(monkeypatch):
    assert mask_uri("https://ada:tok3n@mlflow.example.com/x?token=abc&run=1") == \
        "https://***@mlflow.example.com/x?token=***&run=1"
    assert mask_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"
    monkeypatch.setattr("kit.govern.mlflow_target.os.access", lambda *a, **k: False)  # as a non-root user would see it
    with pytest.raises(KitError, match="MLflow store .*m.db is read-only"):
        open_client("sqlite:////tmp/m.db")
    monkeypatch.undo()
    monkeypatch.setitem(__import__("sys").modules, "mlflow", None)
    with pytest.raises(KitError, match=r"MLflow is not installed; pip install 'quant-kit\[mlflow\]'"):
        open_client("sqlite:////tmp/x.db")


@pytest.mark.slow
def test_the_docs_screenshot_script_serves_exports_and_shoots(tmp_path):
    """scripts/mlflow_screenshot.py: mlflow server on a loopback port, headless Chromium, server stopped (~1–2 min)."""
    import subprocess
    import sys
    from pathlib import Path

    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("no Chromium: install Debian's `chromium` package (.ci/run does) to take the MLflow screenshots")
    pytest.importorskip("playwright")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "scripts" / "mlflow_screenshot.py"), "--out-dir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("mlflow-run.png", "mlflow-model.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000, f"{name}: an almost empty page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow-model.png", "mlflow-run.png"], "nothing left behind"
