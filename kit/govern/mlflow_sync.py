"""Mirror the registry into MLflow: one run per entry, nested re-validations, model versions by reference, aliases.

MLflow is optional (``pip install ".[mlflow]"``): it is imported only inside these functions.
Exports are keyed by the entry and validation ids (run tags), so exporting twice creates
nothing new; a run is tagged ``complete`` only after all of it is written, and a partial one
left by an interrupted export is deleted and written again. What was exported is also kept
in the registry (``registry_mlflow_exports``). See docs/mlflow.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.console import progress_default, stage
from kit.errors import KitError
from kit.govern import mlflow_fields as f
from kit.govern.mlflow_target import MLFLOW_URI_ENV, artifact_root, mask_uri, mlflow_errors, open_client, quiet_mlflow
from kit.govern.registry import Entry, Registry, Validation, current_stack

__all__ = ["MLFLOW_URI_ENV", "export_registry", "exported_items", "find_run", "mirror_if_configured"]

_STATE_DDL = ("CREATE TABLE IF NOT EXISTS registry_mlflow_exports (target TEXT NOT NULL, item_id TEXT NOT NULL, "
              "kind TEXT NOT NULL, run_id TEXT NOT NULL, exported_at TEXT NOT NULL, PRIMARY KEY (target, item_id))")


def _ms(stamp: str) -> int:
    import datetime

    return int(datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def find_run(client: Any, experiment_ids: Sequence[str], tags: dict[str, str]) -> Any:
    """The active run carrying all ``tags`` (the export's keys), or None.

    Args:
        client: an ``MlflowClient``.
        experiment_ids: where to look.
        tags: tag → value, all required.
    """
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    runs = client.search_runs(list(experiment_ids), filter_string=query, max_results=2)
    return runs[0] if runs else None


def exported_items(registry: Registry, *, tracking_uri: str) -> dict[str, str]:
    """What the registry recorded as exported to a tracking URI: entry or validation id → run id.

    Args:
        registry: the open registry.
        tracking_uri: the MLflow tracking URI (compared with its secrets masked).
    """
    registry.db.query(_STATE_DDL)
    rows = registry.db.query("SELECT item_id, run_id FROM registry_mlflow_exports WHERE target = ?",
                             (mask_uri(tracking_uri),))
    return {str(item): str(run) for item, run in rows}


def _bits(entry: Entry) -> str:
    return f" {entry.bits}-bit" if entry.bits else ""


class _Mirror:
    """One export: the client, the registry, and what this export created."""

    def __init__(self, *, client: Any, registry: Registry, uri: str, upload_weights: bool) -> None:
        self.client, self.registry, self.target, self.upload_weights = client, registry, mask_uri(uri), upload_weights
        self.artifacts = artifact_root(uri)
        self.experiments: dict[str, str] = {}
        self.created = {"runs": 0, "versions": 0, "models": 0, "experiments": 0}

    def preflight(self, entries: Sequence[Entry]) -> None:
        """Refuse, before writing anything, registered models of the same name that the kit did not create."""
        for name in sorted({n for e in entries for n in (f.base_model_name(e), f.quantized_model_name(e))}):
            model = self._model(name)
            if model is not None and model.tags.get(f.MANAGED_TAG) != "true":
                raise KitError(f"MLflow at {self.target} already holds a registered model '{name}' that the kit did not "
                               "create; rename it there (the kit never changes models it did not create)")

    def _model(self, name: str) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def experiment(self, entry: Entry) -> str:
        name = f.experiment_name(entry)
        if name not in self.experiments:
            found = self.client.get_experiment_by_name(name)
            if found is None:
                self.created["experiments"] += 1
                tags = {f.MANAGED_TAG: "true", "kit.base_ref": str(entry.baseline_ref),
                        "kit.base_sha256": entry.baseline_sha256 or "",
                        "mlflow.experimentKind": "custom_model_development"}  # the UI's model-training view
                where = f"{self.artifacts}/{name.replace('/', '-')}" if self.artifacts else None
                self.experiments[name] = self.client.create_experiment(name, artifact_location=where, tags=tags)
            else:
                self.experiments[name] = found.experiment_id
        return self.experiments[name]

    def write_run(self, *, experiment_id: str, keys: dict[str, str], name: str, start: str, params: dict[str, str],
                  metrics: dict[str, float], tags: dict[str, str], artifacts: dict[str, Any],
                  folders: dict[str, Path] | None = None) -> str:
        """The run keyed by ``keys``: found complete, or (re)written in full and then marked complete."""
        from mlflow.entities import Metric, Param, RunTag

        found = find_run(self.client, [experiment_id], keys)
        if found is not None and found.data.tags.get(f.STATE_TAG) == "complete":
            return str(found.info.run_id)
        if found is not None:  # an interrupted export's run (the kit's own): written again from the start
            self.client.delete_run(found.info.run_id)
        run_id = self.client.create_run(experiment_id, start_time=_ms(start), run_name=name,
                                        tags=keys | {f.STATE_TAG: "partial"}).info.run_id
        at = _ms(start)
        ms = [Metric(k, v, at, 0) for k, v in sorted(metrics.items())]
        ps = [Param(k, v) for k, v in sorted(params.items())]
        ts = [RunTag(k, v) for k, v in sorted(tags.items())]
        for i in range(0, max(len(ms), len(ps), len(ts)), 100):  # MLflow's batch limits
            self.client.log_batch(run_id, metrics=ms[i:i + 100], params=ps[i:i + 100], tags=ts[i:i + 100])
        with tempfile.TemporaryDirectory(prefix="kit-mlflow-") as tmp:
            for rel, data in artifacts.items():
                path = Path(tmp) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, Path):
                    path.write_bytes(data.read_bytes())
                else:
                    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8")
            self.client.log_artifacts(run_id, tmp)
        for rel, folder in (folders or {}).items():
            self.client.log_artifacts(run_id, str(folder), rel)
        self.client.set_terminated(run_id, "FINISHED", end_time=at)
        self.client.set_tag(run_id, f.STATE_TAG, "complete")
        self.created["runs"] += 1
        return str(run_id)

    def entry_run(self, entry: Entry) -> str:
        weights = Path(entry.model_ref).expanduser()
        reference = {"path": entry.model_ref, "sha256": entry.model_sha256, "manifest_sha256": f.manifest_sha256(entry),
                     "files": (entry.quant_config or {}).get("files"), "base": {"ref": entry.baseline_ref,
                                                                                "sha256": entry.baseline_sha256}}
        artifacts: dict[str, Any] = {
            "model-reference/reference.json": reference, "kit/configuration.json": entry.quant_config or {},
            "kit/verdict.json": entry.verdict, "kit/records/baseline.json": entry.evals.get("baseline", []),
            "kit/records/candidate.json": entry.evals.get("candidate", []),
            "kit/entry.json": {k: v for k, v in entry.to_dict().items() if k not in ("evals", "verdict")}}
        for report in self.registry.reports(entry.id):
            artifacts[f"kit/reports/{report.kind}-{report.id}/summary.json"] = report.summary
            html = Path(report.path or "") / "report.html" if report.path and Path(report.path).is_dir() else None
            if html is not None and html.is_file():
                artifacts[f"kit/reports/{report.kind}-{report.id}/report.html"] = html
        folders = {"weights": weights} if self.upload_weights and weights.is_dir() else None
        return self.write_run(
            experiment_id=self.experiment(entry), keys={f.ENTRY_TAG: entry.id, f.KIND_TAG: "entry"},
            name=f"{entry.method}{_bits(entry)} {entry.use_case} ({entry.id})", start=entry.created_at,
            params=f.entry_params(entry), artifacts=artifacts, folders=folders,
            metrics=f.verdict_metrics(entry.verdict) | f.record_metrics(entry.evals.get("candidate") or []),
            tags=f.entry_tags(entry) | {"kit.weights": "uploaded" if folders else "by-reference",
                                        "mlflow.note.content": f.run_note(entry)})

    def validation_run(self, entry: Entry, validation: Validation, parent: str) -> str:
        candidate = (validation.evals or {}).get("candidate") or []
        artifacts: dict[str, Any] = {"kit/verdict.json": validation.verdict}
        if validation.evals:
            artifacts |= {"kit/records/baseline.json": validation.evals.get("baseline", []),
                          "kit/records/candidate.json": candidate}
        tags = f.validation_tags(verdict=validation.verdict, stack=validation.stack) | {
            "mlflow.parentRunId": parent, "kit.revalidated_at": validation.created_at}
        return self.write_run(
            experiment_id=self.experiment(entry),
            keys={f.VALIDATION_TAG: validation.id, f.KIND_TAG: "revalidation", f.ENTRY_TAG: entry.id},
            name=f"revalidation {validation.created_at[:16]} ({validation.id})", start=validation.created_at,
            params={"engine": f.engine_label(candidate or entry.evals.get("candidate") or [])},
            metrics=f.verdict_metrics(validation.verdict) | f.record_metrics(candidate), tags=tags, artifacts=artifacts)

    def version(self, *, name: str, sha: str, run_id: str, source: str, tags: dict[str, str], description: str) -> str:
        """The model version keyed by ``kit.sha256``; created (with ``name``) when absent."""
        if self._model(name) is None:
            self.created["models"] += 1
            self.client.create_registered_model(name, tags={f.MANAGED_TAG: "true"}, description=description)
        found = self.client.search_model_versions(f"name = '{name}' and tags.`kit.sha256` = '{sha}'")
        if found:
            return str(found[0].version)
        self.created["versions"] += 1
        return str(self.client.create_model_version(name, source=source, run_id=run_id, description=description,
                                                    tags=tags | {"kit.sha256": sha}).version)

    def versions_of(self, entry: Entry, run_id: str) -> str:
        """Register the base model and the quantized artifact (by reference); the quantized version."""
        art = self.client.get_run(run_id).info.artifact_uri.rstrip("/")
        base_name = f.base_model_name(entry)
        base = self.version(name=base_name, sha=entry.baseline_sha256 or str(entry.baseline_ref), run_id=run_id,
                            source=f"{art}/model-reference", tags={"kit.ref": str(entry.baseline_ref)},
                            description=f"base model {entry.baseline_ref} (registered by the quant kit, by reference)")
        uploaded = self.client.get_run(run_id).data.tags.get("kit.weights") == "uploaded"
        return self.version(
            name=f.quantized_model_name(entry), sha=entry.model_sha256 or entry.model_ref, run_id=run_id,
            source=f"{art}/{'weights' if uploaded else 'model-reference'}",
            tags={"quantized_from": f"models:/{base_name}/{base}", "kit.manifest_sha256": f.manifest_sha256(entry) or "",
                  "kit.source": entry.model_ref, "kit.method": entry.method, "kit.bits": str(entry.bits or ""),
                  "kit.weights": "uploaded" if uploaded else "by-reference"},
            description=f"quantized from models:/{base_name}/{base} ({entry.method}{_bits(entry)}); "
                        f"weights {'uploaded to the run' if uploaded else 'by reference'} at {entry.model_ref}, manifest "
                        f"sha256 {(f.manifest_sha256(entry) or '-')[:16]}…")

    def export_entry(self, entry: Entry) -> str:
        """The entry's run, its re-validations nested under it, its model versions; the quantized version."""
        run_id = self.entry_run(entry)
        for v in self.registry.validations(entry.id):
            if v.kind != "register":
                self.record(v.id, "validation", self.validation_run(entry, v, run_id))
        version = self.versions_of(entry, run_id)
        self.record(entry.id, "entry", run_id)
        return version

    def record(self, item_id: str, kind: str, run_id: str) -> None:
        self.registry.db.query("INSERT INTO registry_mlflow_exports (target, item_id, kind, run_id, exported_at) "
                               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, item_id) DO UPDATE SET "
                               "run_id = excluded.run_id, exported_at = excluded.exported_at",
                               (self.target, item_id, kind, run_id, utc_now(precise=True)))


def _set_aliases(mirror: _Mirror, wanted: dict[str, dict[str, str]], versions: dict[str, str]) -> tuple[list[str], list[str]]:
    """Point each wanted alias at its version; remove the kit's aliases that are no longer earned."""
    set_, removed = [], []
    for name, aliases in sorted(wanted.items()):
        model = mirror._model(name)
        if model is None:
            continue
        current = {a: str(v) for a, v in (model.aliases or {}).items()}
        ours = set(json.loads(model.tags.get("kit.aliases") or "[]")) | {a for a in current if a.startswith("validated-")}
        for alias in sorted(ours & set(current) - set(aliases)):
            mirror.client.delete_registered_model_alias(name, alias)
            removed.append(f"{name}@{alias}")
        for alias, entry_id in sorted(aliases.items()):
            if current.get(alias) != versions[entry_id]:
                mirror.client.set_registered_model_alias(name, alias, versions[entry_id])
                set_.append(f"{name}@{alias} → v{versions[entry_id]}")
        if sorted(aliases) != sorted(json.loads(model.tags.get("kit.aliases") or "[]")):
            mirror.client.set_registered_model_tag(name, "kit.aliases", json.dumps(sorted(aliases)))
    return set_, removed


def export_registry(*, registry: Registry, tracking_uri: str, entry_ids: Sequence[str] | None = None,
                    stack: dict[str, Any] | None = None, upload_weights: bool = False,
                    progress: bool | None = None) -> dict[str, Any]:
    """Export registry entries (all, or ``entry_ids``) to MLflow and set the aliases; return what changed.

    Args:
        registry: the open registry.
        tracking_uri: the MLflow tracking (and model registry) URI, e.g. ``sqlite:///mlflow.db``.
        entry_ids: only these entries (aliases of their registered models are still reconciled in full).
        stack: the stack fingerprint aliases are judged on (default: measured now).
        upload_weights: also upload each artifact's files (default: register them by reference).
        progress: a progress bar (default: terminal/notebook detection).
    """
    from tqdm.auto import tqdm

    client = open_client(tracking_uri)  # unreachable, read-only or foreign: an error before any work
    target = mask_uri(tracking_uri)
    entries = registry.list()
    chosen = [registry.get(i) for i in entry_ids] if entry_ids is not None else entries
    stack = stack if stack is not None else current_stack()
    latest = registry.latest_validations()
    registry.db.query(_STATE_DDL)
    mirror = _Mirror(client=client, registry=registry, uri=tracking_uri, upload_weights=upload_weights)
    versions: dict[str, str] = {}
    with quiet_mlflow(), mlflow_errors(tracking_uri):
        mirror.preflight(chosen)
        bar = tqdm(chosen, desc="export to MLflow", unit="entry",
                   disable=not (progress_default() if progress is None else progress))
        for entry in bar:
            versions[entry.id] = mirror.export_entry(entry)
        names = {f.quantized_model_name(e) for e in chosen}
        wanted = {n: a for n, a in f.desired_aliases(entries, latest, stack=stack).items() if n in names}
        for e in entries:  # an alias target outside ``chosen`` (e.g. a pilot mirroring one entry): exported too
            if e.id not in versions and any(e.id in a.values() for a in wanted.values()):
                versions[e.id] = mirror.export_entry(e)
        aliases_set, aliases_removed = _set_aliases(mirror, wanted, versions)
    return {"target": target, "entries": len(chosen), "created": mirror.created, "aliases_set": aliases_set,
            "aliases_removed": aliases_removed}


def mirror_if_configured(*, registry: Registry, entry_ids: Sequence[str], stack: dict[str, Any] | None = None) -> None:
    """Export freshly registered entries when ``$KIT_MLFLOW_URI`` names a tracking URI (a failure only warns).

    Args:
        registry: the open registry.
        entry_ids: the entries just added.
        stack: the stack they were validated on (default: measured now).
    """
    uri = os.environ.get(MLFLOW_URI_ENV)
    if not uri:
        return
    try:
        done = export_registry(registry=registry, tracking_uri=uri, entry_ids=entry_ids, stack=stack, progress=False)
    except KitError as exc:
        stage("mlflow", f"not mirrored ({exc}); run `kit registry export --mlflow URI` when it is back")
        return
    stage("mlflow", f"mirrored {', '.join(entry_ids)} to {done['target']} ({done['created']['runs']} new run(s))")
