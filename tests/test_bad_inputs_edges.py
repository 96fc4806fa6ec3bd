"""The bad-input catalogue, part 2 (issue 27): folders, reports, the registry's imports and files, exercises.

Every case drives the real CLI and checks the exit code, the one ``error:`` line and that
nothing the user had changed. "Checked before work" is asserted by making papermill (the
report kernel), the model loaders and the quantizer fail if they are called.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit.errors import KitError
from kit.io import STAMP, atomic_dir, write_stamp
from kit.model_files import ARTIFACT_KIND, BASELINE_KIND
from tests.test_bad_inputs import model_folder, no_load, one_error, run, snapshot  # noqa: F401 (no_load: fixture)

PASSWORD = "s3cret-Pa55word"
PG_URL = f"postgresql://kit:{PASSWORD}@127.0.0.1:9/registry"  # port 9 (discard): nothing listens there


@pytest.fixture
def no_kernel(monkeypatch, request):
    """Fail the case if a report kernel starts or a model loads (bad input must be refused first)."""
    import papermill

    request.getfixturevalue("no_load")

    def refuse(*args, **kwargs):
        raise AssertionError("a report kernel started before the bad input was refused")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)  # no_load: model loaders (and so quantizers) fail
    yield


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """A private cache, runs folder and registry below tmp_path (the user's are never touched)."""
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KIT_RUNS", str(tmp_path / "cache" / "runs"))
    monkeypatch.setenv("KIT_REGISTRY", str(tmp_path / "cache" / "registry.sqlite"))
    monkeypatch.delenv("KIT_REGISTRY_URL", raising=False)
    return tmp_path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


PILOT = ("report", "pilot", "--model", "smollm2-135m", "--use-case", "chat-assistant", "--run")


# --- 1. one rule for every folder the kit writes --------------------------------------------------


@pytest.mark.parametrize("target, says", [
    ("baseline", "kit folder with kit-baseline.json, not a pilot report"),
    ("old-baseline", "kit folder with kit-baseline.json, not a pilot report"),  # stamped by a kit before kinds
    ("stamped-baseline", f"is a {BASELINE_KIND}, not a pilot report"),
    ("artifact", "kit folder with kit-quantization.json, not a pilot report"),
    ("adoption-report", "is an adoption report, not a pilot report"),
    ("report-with-notes", "files the kit did not write (notes.md)"),
    ("report-edited", "files changed since the kit wrote them (report.html)"),
    ("user-folder", "is not a kit artifact (no .kit-folder.json)"),
    ("cache", "is or holds the kit cache"),
])
def test_report_overwrite_replaces_only_a_report_of_its_kind(target, says, scratch, capsys, no_kernel):
    folders = {"baseline": model_folder(scratch / "base"), "artifact": model_folder(scratch / "art", log="artifact")}
    stamped = model_folder(scratch / "stamped")
    write_stamp(stamped, kind=BASELINE_KIND, files=None)
    folders["stamped-baseline"] = stamped
    old = model_folder(scratch / "old")
    (old / STAMP).write_text(json.dumps({"written_by": "kit", "pid": 1}))
    folders["old-baseline"] = old
    for name, kind in (("adoption-report", "adoption report"), ("report-with-notes", "pilot report"),
                       ("report-edited", "pilot report")):
        with atomic_dir(scratch / name, kind=kind) as tmp:
            (tmp / "report.html").write_text("<p>the kit's page</p>")
        folders[name] = scratch / name
    (folders["report-with-notes"] / "notes.md").write_text("my notes")
    (folders["report-edited"] / "report.html").write_text("<p>my edits</p>")
    (scratch / "user-folder").mkdir()
    (scratch / "user-folder" / "plan.txt").write_text("mine")
    folders["user-folder"] = scratch / "user-folder"
    folders["cache"] = scratch / "cache"
    (scratch / "cache").mkdir(exist_ok=True)
    before = snapshot(scratch)
    code, _, err = run(capsys, *PILOT, "--out", folders[target], "--overwrite")
    line = one_error(err)
    assert code == 2 and says in line and "choose another --out" in line
    assert snapshot(scratch) == before


def test_a_report_folder_of_the_same_kind_is_replaced(tmp_path):
    with atomic_dir(tmp_path / "r", kind="pilot report") as tmp:
        (tmp / "report.html").write_text("v1")
    stamp = json.loads((tmp_path / "r" / STAMP).read_text())
    assert stamp["kind"] == "pilot report" and list(stamp["files"]) == ["report.html"]
    with atomic_dir(tmp_path / "r", kind="pilot report", overwrite=True) as tmp:
        (tmp / "report.html").write_text("v2")
    assert (tmp_path / "r" / "report.html").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_batch_and_quantize_refuse_a_report_folder(scratch, capsys, no_kernel):
    with atomic_dir(scratch / "rep", kind="pilot report") as tmp:
        (tmp / "report.html").write_text("the kit's page")
    inventory = scratch / "inv.csv"
    inventory.write_text("model,owner,requests_per_day,criticality,use_case\nsmollm2-135m,me,10,low,chat-assistant\n")
    base = model_folder(scratch / "base")
    code, _, err = run(capsys, "report", "batch", "--inventory", inventory, "--out", scratch / "rep", "--overwrite")
    assert code == 2 and "is a pilot report, not a report batch" in one_error(err)
    code, _, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--out", scratch / "rep", "--overwrite")
    assert code == 2 and "no kit-quantization.json" in one_error(err)
    write_stamp(scratch / "rep", kind="pilot report", files={"report.html": "x"})
    (scratch / "rep" / "kit-quantization.json").write_text("{}")
    before = snapshot(scratch)
    code, _, err = run(capsys, "quantize", "--model", base, "--method", "rtn", "--out", scratch / "rep", "--overwrite")
    assert code == 2 and f"is a pilot report, not a {ARTIFACT_KIND}" in one_error(err)
    assert snapshot(scratch) == before


def test_exercises_generate_keeps_a_learners_edits(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KIT_RUNS", str(tmp_path / "runs"))
    repo = Path(__file__).resolve().parents[1]
    ex = tmp_path / "ex"
    assert run(capsys, "exercises", "generate", "--solutions", repo / "solutions", "--exercises", ex)[0] == 0
    first = sorted(ex.glob("*.ipynb"))[0]
    first.write_text(first.read_text().replace("YOUR CODE HERE", "my answer"))
    before = snapshot(ex)
    code, _, err = run(capsys, "exercises", "generate", "--solutions", repo / "solutions", "--exercises", ex)
    assert code == 2 and f"{first} has your edits" in one_error(err) and "--overwrite" in err
    assert snapshot(ex) == before
    code, out, _ = run(capsys, "exercises", "generate", "--solutions", repo / "solutions", "--exercises", ex,
                       "--overwrite")
    kept = tmp_path / "runs" / "exercise-backups"
    backup = next(kept.rglob(first.name))
    assert code == 0 and f"kept your edited copy at {backup}" in out and "my answer" in backup.read_text()
    assert "my answer" not in first.read_text()
    assert run(capsys, "exercises", "generate", "--solutions", repo / "solutions", "--exercises", ex)[0] == 0


# --- 2. nothing imported unless asked ------------------------------------------------------------


def test_adoption_report_imports_examples_only_when_asked(scratch, capsys, monkeypatch, no_kernel):
    from kit.govern.registry import Registry

    code, _, err = run(capsys, "report", "adoption", "--out", scratch / "dash")
    assert code == 2 and "holds no inventory" in one_error(err) and "--examples" in err
    with Registry.open() as reg:
        assert reg.inventory() == [] and reg.incidents() == [] and reg.imports() == []
    import papermill

    seen = {}

    def fake(*args, parameters, **kwargs):
        seen.update(parameters)
        raise KitError("stopped before the kernel")  # the kernel would import what it is given

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    code, _, err = run(capsys, "report", "adoption", "--out", scratch / "dash", "--examples")
    assert code == 2 and "stopped before the kernel" in err
    assert seen["inventory"] == "data/examples/inventory.csv" and seen["incidents"] == "data/examples/incidents.csv"


def test_registry_import_undo_removes_what_it_added(scratch, capsys):
    from kit.govern.registry import Registry

    inventory = scratch / "inv.csv"
    inventory.write_text("model,owner,requests_per_day,criticality\nm1,me,10,low\nm2,me,20,high\n")
    code, out, _ = run(capsys, "registry", "import", "--inventory", inventory)
    batch = out.split("--undo ")[1].split("`")[0]
    assert code == 0 and "imported 2 inventory rows" in out
    code, out, _ = run(capsys, "registry", "import", "--undo", batch)
    assert code == 0 and "2 row(s) removed or restored" in out
    with Registry.open() as reg:
        assert reg.inventory() == []
    code, _, err = run(capsys, "registry", "import", "--undo", batch)
    assert code == 2 and "already undone" in one_error(err)
    code, _, err = run(capsys, "registry", "import", "--undo", "nope")
    assert code == 2 and "no import 'nope'" in one_error(err)
    (scratch / "inc.csv").write_text("occurred_at,model,stage,note,entry\n2026-01-02,m1,gate,x,nope\n")
    code, _, err = run(capsys, "registry", "import", "--inventory", inventory, "--incidents", scratch / "inc.csv")
    assert code == 2 and "no registry entry 'nope'" in one_error(err)
    with Registry.open() as reg:  # neither file imported: the incident log's entry was checked first
        assert reg.inventory() == [] and len(reg.imports()) == 1


# --- 3. no secret on disk ------------------------------------------------------------------------


def files_holding(root: Path, secret: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.usefixtures("no_load")
def test_a_registry_password_is_never_written(scratch, capsys, monkeypatch):
    """The URL reaches the kernel by the environment; the failure copy and the message mask it; nothing on disk holds it."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    import kit.report.preflight as preflight

    monkeypatch.setattr(preflight, "check_references", lambda **kw: None)  # no server: get as far as the kernel
    seen = {}

    def fake(source, executed, *, parameters, **kwargs):
        seen.update(parameters=parameters, url=os.environ.get("KIT_REGISTRY_URL"), kwargs=kwargs,
                    runtime=os.environ["JUPYTER_RUNTIME_DIR"])
        (Path(seen["runtime"]) / "kernel-1.json").write_text("{}")  # the kernel's connection file
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"registry = {parameters['registry']!r}"),
                    nbformat.v4.new_code_cell("connect()", outputs=[nbformat.v4.new_output(
                        "error", ename="OperationalError", evalue=f"cannot reach {os.environ['KIT_REGISTRY_URL']}",
                        traceback=[])])]
        nbformat.write(nb, executed)
        raise PapermillExecutionError(1, 2, "connect()", "OperationalError", "cannot reach the server", [])

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    code, out, err = run(capsys, *PILOT, "--out", scratch / "rep", "--registry", PG_URL)
    line = one_error(err)
    assert code == 2 and "report failed in cell 1" in line and PASSWORD not in out + err
    assert seen["url"] == PG_URL and seen["parameters"]["registry"] == ""  # by the environment, not a parameter
    assert "--IPKernelApp.log_level=ERROR" in seen["kwargs"]["extra_arguments"]  # no TCP warning on the console
    assert not Path(seen["runtime"]).exists()  # the kernel's runtime folder is removed on exit
    kept = Path(line.split("kept at ")[1])
    assert kept.is_file() and oct(kept.stat().st_mode & 0o777) == "0o600" and "kit:***@" in kept.read_text()
    assert files_holding(scratch, PASSWORD) == [] and not (scratch / "rep").exists()
    assert os.environ.get("KIT_REGISTRY_URL") is None  # the CLI's own environment is restored


def test_an_unreachable_postgres_registry_is_refused_before_the_kernel(scratch, capsys, no_kernel):
    before = snapshot(scratch)
    code, out, err = run(capsys, *PILOT, "--out", scratch / "rep", "--registry", PG_URL)
    line = one_error(err)
    assert code == 2 and "cannot use PostgreSQL registry postgresql://kit:***@" in line and PASSWORD not in out + err
    assert files_holding(scratch, PASSWORD) == [] and not (scratch / "rep").exists()
    assert {k for k in snapshot(scratch) if k not in before} <= {"cache", "cache/runs"}


# --- 4. check before work ------------------------------------------------------------------------


@pytest.mark.parametrize("argv, says", [
    (("--accelerator-gib", "0"), "accelerator_memory_gib must be a finite number > 0"),
    (("--price", "-1"), "accelerator_hour_price must be a finite number > 0"),
    (("--price", "nan"), "accelerator_hour_price must be a finite number"),
    (("--price", "inf"), "accelerator_hour_price must be a finite number"),
    (("--tokens-per-request", "0"), "tokens_per_request must be a finite number > 0"),
    (("--max-tokens", "0"), "max_tokens must be a finite number > 0"),
    (("--requests-per-day", "lots"), "requests_per_day must be int"),
    (("--entry", "nope"), "no registry entry 'nope'"),
    (("--methods", "gptq-typo"), "unknown method gptq-typo"),
])
def test_pilot_report_parameters_are_checked_before_the_kernel(argv, says, scratch, capsys, no_kernel):
    before = snapshot(scratch)
    code, _, err = run(capsys, *PILOT, "--out", scratch / "rep", *argv)
    assert code == 2 and says in one_error(err)
    assert not (scratch / "rep").exists() and {k for k in snapshot(scratch) if k not in before} <= {
        "cache", "cache/registry.sqlite"}


@pytest.mark.parametrize("argv, says", [
    (("--model", "nosuch", "--use-case", "chat-assistant"), "model 'nosuch' not found"),
    (("--model", "smollm2-135m", "--use-case", "chat-asistant"), "unknown use case 'chat-asistant'"),
])
def test_pilot_report_names_are_checked_before_the_kernel(argv, says, scratch, capsys, no_kernel):
    code, _, err = run(capsys, "report", "pilot", "--run", *argv, "--out", scratch / "rep")
    assert code == 2 and says in one_error(err) and not (scratch / "rep").exists()


BAD_INVENTORIES = {
    "nan": (b"model,owner,requests_per_day,criticality\nm,o,NaN,low\n", "inv.csv:2: requests_per_day 'NaN'"),
    "huge": (b"model,owner,requests_per_day,criticality\nm,o,1e30,low\n", "inv.csv:2: requests_per_day '1e30'"),
    "lots": (b"model,owner,requests_per_day,criticality\nm,o,lots,low\n", "inv.csv:2: requests_per_day 'lots'"),
    "cost": (b"model,owner,requests_per_day,criticality,serving_cost_per_day\nm,o,5,low,inf\n",
             "inv.csv:2: serving_cost_per_day 'inf'"),
    "latin-1": (b"model,owner,requests_per_day,criticality\nm\xe9,o,5,low\n", "inv.csv:2: not UTF-8 text"),
    "duplicate": (b"model,owner,requests_per_day,criticality\nm,o,5,low\n\nm,o,6,low\n",
                  "inv.csv:4: model m is listed twice (first on line 2)"),
    "fields": (b"model,owner,requests_per_day,criticality\nm,o,5,low,extra\n", "inv.csv:2: 5 values"),
}


@pytest.mark.parametrize("case", sorted(BAD_INVENTORIES))
@pytest.mark.parametrize("command", ["registry import", "report batch", "report adoption"])
def test_bad_inventories_are_one_line_errors(command, case, scratch, capsys, no_kernel):
    from kit.govern.registry import Registry

    content, says = BAD_INVENTORIES[case]
    (scratch / "inv.csv").write_bytes(content)
    out = ("--out", scratch / "o") if command != "registry import" else ()
    before = snapshot(scratch)
    code, _, err = run(capsys, *command.split(), "--inventory", scratch / "inv.csv", *out)
    assert code == 2 and says in one_error(err)
    with Registry.open() as reg:
        assert reg.inventory() == [] and reg.imports() == []
    assert {k for k in snapshot(scratch) if k not in before} <= {"cache", "cache/registry.sqlite"}


@pytest.mark.parametrize("content, says", [
    ("occurred_at,model,stage,note\n2026-02-30,m,gate,x\n", "inc.csv:2: time '2026-02-30' is not a real"),
    ("occurred_at,model,stage,note\n2026-02-03,m,staging,x\n", "inc.csv:2: stage 'staging'"),
    ("occurred_at,model,stage,note\n2026-02-03,m,gate,x\n2026-02-03,m,gate,x\n", "inc.csv:3: this incident is listed"),
])
def test_bad_incident_logs_are_one_line_errors(content, says, scratch, capsys, no_kernel):
    (scratch / "inc.csv").write_text(content)
    code, _, err = run(capsys, "registry", "import", "--incidents", scratch / "inc.csv")
    assert code == 2 and says in one_error(err)
    code, _, err = run(capsys, "report", "adoption", "--incidents", scratch / "inc.csv", "--out", scratch / "o")
    assert code == 2 and says in one_error(err)


def test_adoption_as_of_must_be_a_real_date(scratch, capsys, no_kernel):
    code, _, err = run(capsys, "report", "adoption", "--examples", "--as-of", "2026-13-01", "--out", scratch / "o")
    assert code == 2 and "--as-of '2026-13-01' is not a real date" in one_error(err)


# --- 5. clean after a kill -----------------------------------------------------------------------


@pytest.mark.usefixtures("no_load")
def test_leftovers_of_a_killed_report_are_cleaned_with_a_line(scratch, capsys, monkeypatch):
    import papermill

    pid = dead_pid()
    runs = scratch / "cache" / "runs"
    (runs / "pilot-x").mkdir(parents=True)
    lock_in_runs = runs / "pilot-x" / ".bnb-int8.lock"
    lock_in_runs.write_text(f"{pid}\n")
    partial_in_runs = runs / "pilot-x" / f".bnb-int8.partial-{pid}-abc"
    partial_in_runs.mkdir()
    lock_out = scratch / ".rep.lock"
    lock_out.write_text(f"{pid}\n")
    partial_out = scratch / f".rep.partial-{pid}-xyz"
    partial_out.mkdir()
    runtime = scratch / "cache" / "kernel-runtime" / f"{pid}-old"
    runtime.mkdir(parents=True)
    (runtime / "kernel-1.json").write_text("{}")
    live = runs / "pilot-x" / ".other.lock"
    live.write_text(f"{os.getpid()}\n")  # a running process's lock: kept

    def stop(*args, **kwargs):
        raise KitError("stopped where the kernel would start")

    monkeypatch.setattr(papermill, "execute_notebook", stop)
    code, out, _ = run(capsys, *PILOT, "--out", scratch / "rep")
    assert code == 2
    for gone in (lock_in_runs, partial_in_runs, lock_out, partial_out, runtime):
        assert not gone.exists() and f"[cleanup] removed {gone}, left by an interrupted run" in out
    assert live.exists() and not (scratch / "rep").exists() and not lock_out.exists()


def test_nothing_is_created_beside_a_refused_truncated_registry(tmp_path, capsys):
    from kit.govern.registry import Registry

    with Registry.open(tmp_path / "good.sqlite"):
        pass
    (tmp_path / "bad.sqlite").write_bytes((tmp_path / "good.sqlite").read_bytes()[:3000])  # a WAL-mode header
    (tmp_path / "good.sqlite").unlink()
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "registry", "list", "--registry", tmp_path / "bad.sqlite")
    assert code == 2 and "not a readable kit registry" in one_error(err)
    assert snapshot(tmp_path) == before


def test_a_registry_in_a_read_only_folder_can_be_listed(tmp_path, capsys, monkeypatch):
    import kit.govern._registry_db as db
    from kit.govern.registry import Registry

    path = tmp_path / "ro" / "registry.sqlite"
    with Registry.open(path) as reg:
        reg.import_inventory(_inventory(tmp_path))
    os.chmod(tmp_path / "ro", 0o555)
    try:
        if os.geteuid() == 0:  # root writes anywhere: make the kit see the folder as others would
            monkeypatch.setattr(db, "writable", lambda p: False)
        before = snapshot(tmp_path / "ro")
        code, out, err = run(capsys, "registry", "list", "--registry", path)
        assert code == 0 and "no entries in" in out and not err
        code, out, _ = run(capsys, "registry", "import", "--list", "--registry", path)
        assert code == 0 and "inventory" in out
        assert snapshot(tmp_path / "ro") == before
    finally:
        os.chmod(tmp_path / "ro", 0o755)


def _inventory(root: Path) -> Path:
    path = root / "inv.csv"
    path.write_text("model,owner,requests_per_day,criticality\nm,o,5,low\n")
    return path


# --- 6. an inconclusive entry is called inconclusive --------------------------------------------


def test_an_inconclusive_validation_is_not_called_failed():
    from kit.govern.registry import Validation

    v = Validation(id="v", entry_id="e", created_at="t", kind="register", passed=False,
                   verdict={"decision": "inconclusive"}, stack={})
    assert v.decision == "inconclusive" and "inconclusive" in v.outcome() and "failed" not in v.outcome()
    old = Validation(id="v", entry_id="e", created_at="t", kind="register", passed=False, verdict={}, stack={})
    assert old.outcome() == "failed its latest validation"
