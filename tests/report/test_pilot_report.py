"""`kit report pilot` end to end on fixed registry records: the folder, the HTML, the stored summary, a real browser."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import scratch
from pilot_fixtures import make_fixed_pilot

from kit.cli.main import main
from kit.errors import KitError
from kit.govern.registry import Registry
from kit.report.runner import MAX_HTML_BYTES, failures_dir, run_report
from kit.report.summary import comparable

TITLE = "Pilot report: smollm2-135m for chat-assistant"
FIGURES = ("quality_vs_memory.png", "speed.png", "per_set.png")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report folder written by the CLI from the fixed pilot (the notebook runs once for the module)."""
    with scratch(tmp_path_factory, "pilot-report") as folder:
        registry, entries = make_fixed_pilot(folder)
        out = folder / "out"
        code = main(["report", "pilot", "--model", "smollm2-135m", "--use-case", "chat-assistant", "--out", str(out),
                     "--registry", str(registry), "--hardware", "test machine"])
        assert code == 0
        yield out, registry, entries


@pytest.mark.slow
def test_folder_holds_the_four_outputs_and_nothing_half_written(report):
    out, _, _ = report
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # .kit-folder.json: atomic_dir's stamp
    assert names == sorted(["report.ipynb", "report.html", "summary.json", *FIGURES])
    assert not list(out.parent.glob(".out.partial-*"))
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_html_is_code_free_self_contained_and_small(report):
    out, _, _ = report
    page = (out / "report.html").read_text()
    assert len(page.encode()) < MAX_HTML_BYTES
    assert f"<title>{TITLE}</title>" in page
    body = page[page.index("<body"):]
    assert "jp-InputArea-editor" not in body and "prepare_pilot_report" not in body and "import " not in body
    assert 'class="highlight' not in body  # no code cells at all
    images = re.findall(r'<img[^>]+src="([^"]{0,40})', page)
    assert len(images) == len(FIGURES) and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'<script[^>]+src="https?:', page)  # nothing fetched from the network
    assert "widget-state" not in body and "stderr" not in body and "Warning" not in body and "it/s]" not in body
    decision = page.index("Recommended: bnb-int8 (8-bit)")
    assert decision < page.index("accuracy held on evidence (bnb-int8); serving cost +100 % on cpu (Test CPU, AVX2)")
    assert decision < page.index("Before and after") < page.index("Serving cost per method and engine") < page.index(
        "Savings from the measurements") < page.index("Appendix: provenance")  # the order, decision first
    assert "Against the served baseline (fp32, the faster of fp32 measured in this run (bf16 not measured))" in page
    assert "busy 50% of each hour" in page
    for verdict in (">pass<", ">fail<", ">inconclusive<"):
        assert verdict in page
    assert "batch-1 greedy decode tokens/s" in page and "Measured on test machine" in page  # assumptions, footnote


@pytest.mark.slow
def test_summary_matches_the_fixed_records_and_is_stored_on_the_entries(report):
    out, registry, entries = report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == "kit.report/1" and summary["figures"] == list(FIGURES)
    assert summary["decision"]["entry_id"] == entries[0].id
    assert summary["provenance"]["parameters"]["hardware"] == "test machine"
    assert summary["provenance"]["git_commit"]
    with Registry.open(registry) as reg:
        for e in entries:
            stored = reg.reports(e.id)
            assert len(stored) == 1 and stored[0].path == str(out)
            assert comparable(stored[0].summary) == comparable(summary)


@pytest.mark.slow
def test_a_real_browser_renders_the_page(report, tmp_path):
    out, _, _ = report
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (.ci/run does) to render the report")
    from PIL import Image

    shot = tmp_path / "shot.png"
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2000"]
    subprocess.run([*args, f"--screenshot={shot}", (out / "report.html").as_uri()], check=True, timeout=120,
                   capture_output=True)
    dom = subprocess.run([*args, "--dump-dom", (out / "report.html").as_uri()], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert f"<title>{TITLE}</title>" in dom
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2000)
    dark = sum(image.histogram()[:200])  # pixels clearly darker than the white page
    assert dark > 0.02 * 1280 * 2000, "the screenshot is (nearly) blank"


def test_bad_parameters_are_refused_before_a_kernel_starts(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(KitError, match="unknown parameter colour"):
        run_report(kind="pilot", out=out, parameters={"colour": "red"})
    with pytest.raises(KitError, match="parameter limit must be int or None, got str"):
        run_report(kind="pilot", out=out, parameters={"limit": "20"})
    with pytest.raises(KitError, match="run_if_missing must be bool"):
        run_report(kind="pilot", out=out, parameters={"run_if_missing": 1})
    assert main(["report", "pilot", "--model", "m", "--use-case", "chat-assistant", "--out", str(out),
                 "--max-tokens", "many"]) == 2
    err = capsys.readouterr().err
    assert err == "error: parameter max_tokens must be int or None, got 'many'\n"
    assert main(["report", "pilot", "--model", "m", "--use-case", "chat-assistant", "--out", str(out), "-p", "volume=3"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown parameter volume; known: model, use_case")
    for flag, value in (("--utilisation", "0"), ("--utilisation", "nan"), ("--utilisation", "1.5"), ("--price", "0"),
                        ("--price", "inf")):
        assert main(["report", "pilot", "--model", "m", "--use-case", "chat-assistant", "--out", str(out), flag, value]) == 2
        err = capsys.readouterr().err
        assert "must be a finite number > 0" in err and len(err.splitlines()) == 1
    empty = str(tmp_path / "empty.sqlite")
    assert main(["report", "pilot", "--model", "m", "--use-case", "chat-assistant", "--out", str(out), "--registry", empty]) == 2
    assert capsys.readouterr().err == (f"error: the registry {empty} holds no pilot of m for chat-assistant; run "
                                       "`kit pilot --model m --use-case chat-assistant` first or pass --run\n")
    assert not out.exists()


@pytest.mark.slow
def test_a_failing_cell_is_named_keeps_the_partial_notebook_and_writes_no_folder(tmp_path):
    out = tmp_path / "out"
    empty = tmp_path / "empty.sqlite"
    with pytest.raises(KitError) as info:  # no pilot in the registry, and not asked to run one
        run_report(kind="pilot", out=out, parameters={"registry": str(empty), "run_if_missing": False})
    message = str(info.value)
    assert re.search(r"pilot report failed in cell \d+ \(`# Load the pilot", message)
    assert "KitError: the registry" in message and "holds no pilot of smollm2-135m" in message
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))
    kept = re.search(r"partial notebook is kept at (\S+\.ipynb)", message).group(1)
    assert kept.startswith(str(failures_dir()))
    nb = json.loads(Path(kept).read_text())
    assert any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))


def test_reader_copy_drops_streams_errors_widgets_and_skipped_cells(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from kit.report.runner import export_html, reader_copy

    keep = new_code_cell("x", outputs=[new_output("stream", name="stderr", text="Warning: noisy\n"),
                                       new_output("stream", name="stdout", text="[pilot] 12%|██ 3/25 it/s]\n"),
                                       new_output("display_data", data={"text/html": "<b>kept</b>"})])
    widget = new_code_cell("w", outputs=[new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m"}})])
    skipped = new_markdown_cell("how to run this notebook")
    skipped.metadata["tags"] = ["report-skip"]
    nb = new_notebook(cells=[skipped, keep, widget, new_code_cell("y", outputs=[new_output(
        "error", ename="E", evalue="v", traceback=[])])])
    nb.metadata["widgets"] = {"state": {}}
    out = reader_copy(nb)
    assert [c.source for c in out.cells] == ["x"] and len(out.cells[0].outputs) == 1 and "widgets" not in out.metadata
    assert "widgets" in nb.metadata  # the executed notebook itself is left as it was
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    export_html(path, tmp_path / "r.html", title="T")
    page = (tmp_path / "r.html").read_text()
    assert "<b>kept</b>" in page and "noisy" not in page and "it/s" not in page
    with pytest.raises(KitError, match="over the 0.0 MB limit"):
        export_html(path, tmp_path / "big.html", title="T", max_bytes=1000)
    assert not (tmp_path / "big.html").exists()
