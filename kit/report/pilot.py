"""What notebook 06 calls: find (or run) a finished pilot, build its summary and figures, save summary.json."""

from __future__ import annotations

import importlib.metadata
import platform
import re
from pathlib import Path
from typing import Any

from kit.clock import folder_stamp, utc_now
from kit.errors import KitError
from kit.io import atomic_write_json, runs_dir
from kit.report.figures import write_figures
from kit.report.params import PILOT, check_parameters, public_parameters
from kit.report.savings import CostAssumptions
from kit.report.summary import build_summary, pilot_entries

__all__ = ["default_output_dir", "prepare_pilot_report", "report_stack", "save_summary"]

_REPORT_PACKAGES = ("papermill", "nbconvert", "matplotlib", "nbformat")


def report_stack() -> dict[str, Any]:
    """Versions of what built the report (the pilot's own stack is in its registry entries)."""
    from kit import __version__
    from kit.environment import describe_environment

    env = describe_environment(device="cpu")
    versions: dict[str, str | None] = {}
    for name in _REPORT_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"kit": __version__, "python": platform.python_version(), "git_commit": env.get("git_commit"),
            "packages": versions}


def default_output_dir(*, kind: str, name: str) -> Path:
    """``runs/report-<kind>-<name>-<time>`` for notebooks run by hand.

    Args:
        kind: ``pilot``, ``adoption`` ...
        name: a label such as the model.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "report"
    return runs_dir() / f"report-{kind}-{slug}-{folder_stamp()}"


def _run_pilot(reg: Any, p: dict[str, Any]) -> None:
    from kit.eval.harness import Protocol
    from kit.govern.pilot import run_pilot

    run_pilot(model=p["model"], use_case=p["use_case"], candidates=p["methods"] or None, reason=p.get("reason") or None,
              protocol=Protocol(max_tokens=p["max_tokens"], limit=p["limit"]), volume_per_day=p["requests_per_day"],
              registry=reg, progress=None)


def prepare_pilot_report(**parameters: Any) -> dict[str, Any]:
    """Read the pilot's entries (running one if asked), write the figures, return the summary.

    Args:
        parameters: the notebook parameters (see :data:`kit.report.params.PILOT`).
    """
    from kit.govern.policy import get_policy
    from kit.govern.registry import Registry
    from kit.govern.serving_cost import ServingPrice
    from kit.govern.speed import speeds_for

    p = check_parameters(schema=PILOT, given=parameters)
    policy = get_policy(p["use_case"])
    out = Path(p["output_dir"]) if p["output_dir"] else default_output_dir(kind="pilot", name=p["model"])
    with Registry.open(p["registry"] or None) as reg:
        entries = pilot_entries(registry=reg, model=p["model"], use_case=p["use_case"], entry_ids=p["entries"])
        ran = False
        if not entries:
            if not p["run_if_missing"]:
                raise KitError(f"the registry {reg.location} holds no pilot of {p['model']} for {p['use_case']}; "
                               f"run `kit pilot --model {p['model']} --use-case {p['use_case']}` or pass --run")
            _run_pilot(reg, p)
            ran = True
            entries = pilot_entries(registry=reg, model=p["model"], use_case=p["use_case"])
        location = reg.location
        shas = dict.fromkeys([entries[0].baseline_sha256, *(e.model_sha256 for e in entries)])
        speeds = [s for sha in shas if sha for s in speeds_for(registry=reg, sha256=sha)]  # imported: serving hardware
    hw = entries[0].evals["baseline"][0].get("environment", {}).get("hardware", {})
    assumptions = CostAssumptions(
        requests_per_day=p["requests_per_day"], tokens_per_request=p["tokens_per_request"],
        accelerator_hour_price=float(p["accelerator_hour_price"]),
        accelerator_memory_gib=float(p["accelerator_memory_gib"]), memory_headroom=float(p["memory_headroom"]),
        hardware=p["hardware"] or f"{hw.get('device', 'cpu')} ({hw.get('gpu') or hw.get('cpu') or 'unknown'})",
        cost_basis=p["cost_basis"])
    stack = report_stack()
    summary = build_summary(
        entries=entries, use_case=p["use_case"], default_method=policy.default_method, assumptions=assumptions,
        parameters=public_parameters(p | {"output_dir": str(out)}), speeds=speeds,
        price=ServingPrice(hour_price=float(p["accelerator_hour_price"]), utilisation=float(p["utilisation"]),
                           tokens_per_day=p["requests_per_day"] * p["tokens_per_request"]),
        provenance={"created_at": utc_now(),
                    "git_commit": stack["git_commit"], "report_stack": stack, "registry": location,
                    "pilot_run_by_report": ran})
    summary["title"] = f"Pilot report: {summary['model']} for {summary['use_case']}"
    summary["figures"] = list(write_figures(summary, out))  # report order
    summary["output_dir"] = str(out)
    return summary


def save_summary(summary: dict[str, Any]) -> Path:
    """Write ``summary.json`` into the summary's output folder (the last step of a report notebook).

    Args:
        summary: from :func:`prepare_pilot_report` (or the adoption/revalidation equivalents).
    """
    data = {k: v for k, v in summary.items() if k != "output_dir"}
    return atomic_write_json(Path(summary["output_dir"]) / "summary.json", data)
