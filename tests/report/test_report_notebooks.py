"""Notebooks 06–08 and their CLI verbs: parameters cells match the schemas; adoption, re-validation and batch run."""

import ast
import json
import re

import nbformat
import papermill
import pytest
from helpers import STACK
from pilot_fixtures import make_fixed_pilot

from kit.govern.registry import Registry
from kit.report.batch import run_batch
from kit.report.params import ADOPTION, PILOT, REVALIDATION
from kit.report.runner import NOTEBOOKS, run_report

SCHEMAS = {"pilot": PILOT, "adoption": ADOPTION, "revalidation": REVALIDATION}
@pytest.mark.parametrize("kind", sorted(NOTEBOOKS))
def test_parameters_cell_matches_the_schema_and_notebook_is_clean(kind):
    path = f"notebooks/{NOTEBOOKS[kind][0]}"
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    found = papermill.inspect_notebook(path)
    schema = SCHEMAS[kind]
    assert list(found) == list(schema)
    assert {k: ast.literal_eval(v["default"]) for k, v in found.items()} == {k: p.default for k, p in schema.items()}


def _images(page):
    return re.findall(r'<img[^>]+src="(data:image/png;base64,)', page)


@pytest.mark.slow
def test_adoption_dashboard_report(tmp_path):
    registry, entries = make_fixed_pilot(tmp_path)
    with Registry.open(registry) as reg:
        reg.promote(entries[0].id, stack=STACK)
    out = tmp_path / "adoption"
    data = run_report(kind="adoption", out=out, parameters={"registry": str(registry), "as_of": "2026-12-31"})
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["activity.png", "coverage.png", "report.html", "report.ipynb", "summary.json", "trends.png"]
    assert data["coverage"]["share"] == pytest.approx(450000 / 3247000) and data["incidents"]["production"] == 1
    page = (out / "report.html").read_text()
    assert "<title>Adoption dashboard (example data)</title>" in page and "EXAMPLE DATA" in page
    assert len(_images(page)) == 3 and 'class="highlight' not in page
    assert json.loads((out / "summary.json").read_text())["schema"] == "kit.adoption/1"


@pytest.mark.slow
def test_revalidation_report_lists_stale_entries_and_reports_what_could_not_rerun(tmp_path):
    registry, entries = make_fixed_pilot(tmp_path)  # recorded on torch 2.13.0+cpu: stale on any other stack
    out = tmp_path / "upgrade"
    data = run_report(kind="revalidation", out=out, parameters={"registry": str(registry)})
    stale = {s["entry"] for s in data["stale"]}
    if not stale:
        pytest.skip("this machine runs the fixed records' stack (torch 2.13.0+cpu, transformers 5.17.0)")
    assert stale == {e.id for e in entries}
    assert all(r["error"] and "is gone" in r["error"] for r in data["results"])  # the fixed artifacts do not exist
    assert data["results"][0]["metrics"][0]["before"] == pytest.approx(11.89)
    page = (out / "report.html").read_text()
    assert "Stale entries" in page and "could not be re-run" in page and "<title>Re-validation after upgrade" in page


@pytest.mark.slow
def test_batch_writes_one_report_per_piloted_model_and_a_rollup(tmp_path):
    registry, entries = make_fixed_pilot(tmp_path)
    out = tmp_path / "batch"
    rollup = run_batch(inventory="data/examples/inventory.csv", out=out, registry=str(registry))
    assert rollup["reports"] == 1 and rollup["example_data"]
    statuses = {r["model"]: r["status"] for r in rollup["models"]}
    assert statuses["smollm2-135m"] == "pass" and statuses["support-chat-8b"] == "no pilot yet"
    assert (out / "smollm2-135m" / "report.html").is_file() and (out / "rollup.json").is_file()
    assert '<a href="smollm2-135m/report.html">' in (out / "index.html").read_text()
    with Registry.open(registry) as reg:
        assert reg.reports(entries[0].id)[0].path == str(out / "smollm2-135m")
