"""Read an MLflow mirror back and say where it differs from the registry (the check a team runs in CI)."""

from __future__ import annotations

from typing import Any

from kit.govern import mlflow_fields as f
from kit.govern.mlflow_sync import exported_items, find_run
from kit.govern.mlflow_target import mask_uri, mlflow_errors, open_client, quiet_mlflow
from kit.govern.registry import Registry, current_stack

__all__ = ["check_mirror"]


def _entry_runs(client: Any) -> dict[str, Any]:
    """Every complete or partial entry run in the kit's experiments, by entry id."""
    experiments = [e.experiment_id for e in client.search_experiments(filter_string="name LIKE 'kit/%'")]
    runs: dict[str, Any] = {}
    token = None
    while experiments:
        page = client.search_runs(experiments, filter_string=f"tags.`{f.KIND_TAG}` = 'entry'", max_results=500,
                                  page_token=token)
        runs |= {r.data.tags[f.ENTRY_TAG]: r for r in page}
        token = page.token
        if not token:
            break
    return runs


def _version_problems(client: Any, entry: Any) -> tuple[list[str], str | None]:
    name, sha = f.quantized_model_name(entry), entry.model_sha256 or entry.model_ref
    found = client.search_model_versions(f"name = '{name}' and tags.`kit.sha256` = '{sha}'")
    if not found:
        return [f"entry {entry.id}: no version of registered model '{name}' for sha256 {sha[:12]}"], None
    lineage = found[0].tags.get("quantized_from", "")
    if not lineage.startswith(f"models:/{f.base_model_name(entry)}/"):
        return [f"entry {entry.id}: {name} v{found[0].version} has no quantized_from tag naming its base model"], None
    return [], str(found[0].version)


def check_mirror(*, registry: Registry, tracking_uri: str, stack: dict[str, Any] | None = None) -> list[str]:
    """Differences between the registry and its MLflow mirror, one line each; empty when they match.

    Checked: every entry has one complete run with its decision and hashes, every re-validation a
    nested run under it, every artifact a model version with its ``quantized_from`` lineage, and
    the kit's aliases point where the registry says (``validated-*`` judged on ``stack``); MLflow
    entry runs the registry does not hold are reported too.

    Args:
        registry: the open registry.
        tracking_uri: the MLflow tracking URI.
        stack: the stack fingerprint aliases are judged on (default: measured now).
    """
    client = open_client(tracking_uri)
    stack = stack if stack is not None else current_stack()
    entries, latest = registry.list(), registry.latest_validations()
    recorded = exported_items(registry, tracking_uri=tracking_uri)
    problems: list[str] = []
    versions: dict[str, str] = {}
    from mlflow.exceptions import MlflowException

    with quiet_mlflow(), mlflow_errors(tracking_uri):
        runs = _entry_runs(client)
        for extra in sorted(set(runs) - {e.id for e in entries}):
            problems.append(f"MLflow holds entry {extra} (run {runs[extra].info.run_id}), which the registry does not")
        for e in entries:
            run = runs.get(e.id)
            if run is None:
                was = f" (recorded as exported in run {recorded[e.id]})" if e.id in recorded else ""
                problems.append(f"entry {e.id}: no MLflow run{was}")
                continue
            tags = run.data.tags
            expected = {f.STATE_TAG: "complete", "kit.decision": e.verdict.get("decision"),
                        "kit.model_sha256": e.model_sha256 or "", "kit.use_case": e.use_case}
            problems += [f"entry {e.id}: tag {k} is {tags.get(k)!r} in MLflow, {v!r} in the registry"
                         for k, v in expected.items() if tags.get(k) != v]
            for v in registry.validations(e.id):
                if v.kind == "register":
                    continue
                nested = find_run(client, [run.info.experiment_id], {f.VALIDATION_TAG: v.id, f.KIND_TAG: "revalidation"})
                if nested is None or nested.data.tags.get("mlflow.parentRunId") != run.info.run_id:
                    problems.append(f"entry {e.id}: re-validation {v.id} has no nested run under {run.info.run_id}")
                elif nested.data.tags.get("kit.decision") != v.verdict.get("decision"):
                    problems.append(f"entry {e.id}: re-validation {v.id} decision differs in MLflow")
            found, version = _version_problems(client, e)
            problems += found
            if version:
                versions[e.id] = version
        for name, aliases in f.desired_aliases(entries, latest, stack=stack).items():
            try:
                model = client.get_registered_model(name)
            except MlflowException:  # not there: already reported per entry
                continue
            current = {a: str(v) for a, v in (model.aliases or {}).items()}
            for alias, entry_id in sorted(aliases.items()):
                if entry_id in versions and current.get(alias) != versions[entry_id]:
                    problems.append(f"{name}@{alias} should point at v{versions[entry_id]} (entry {entry_id}), "
                                    f"MLflow has {current.get(alias) or 'none'}")
            for alias in sorted(a for a in current if a.startswith("validated-") and a not in aliases):
                problems.append(f"{name}@{alias} is set in MLflow but no entry earns it on this stack "
                                "(failed or stale); run `kit registry export --mlflow URI`")
    return [p.replace(tracking_uri, mask_uri(tracking_uri)) for p in problems]
