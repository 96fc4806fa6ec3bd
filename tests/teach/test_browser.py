"""The pilot panel in a real browser: JupyterLab + headless Chromium (Debian's), driven by Playwright.

Starts JupyterLab on a scratch folder (127.0.0.1, random port, a token), opens a notebook
that shows the panel, runs it, picks the "quick look" preset and clicks Run; checks the
widgets render, the busy state shows, the page survives a reload mid-run and the result
table and the decision appear; no browser console errors. Screenshots go to a temp folder
printed in the output; ``KIT_SCREENSHOT_TO_DOCS=1`` also writes docs/img/panel.png.
Playwright never downloads a browser here: it drives /usr/bin/chromium (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "panel", "metadata": {}, "outputs": [],
               "source": ["from kit.teach.widgets import build_panel\n", "\n", "panel = build_panel()\n",
                          "panel.widget"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
RESULT_TIMEOUT_MS = 600_000  # a quick-look run: about a minute on a quiet 2-core CPU, 5-7 on a shared one


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server on a scratch folder; yields (base URL, token, scratch folder)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; .ci/run does this)")
    pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed (pip install -e '.[test]')")
    scratch = Path(tempfile.mkdtemp(prefix="kit-browser-"))
    (scratch / "work").mkdir()
    (scratch / "work" / "panel.ipynb").write_text(json.dumps(NOTEBOOK))
    news = scratch / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no pop-up over the panel
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "KIT_PROGRESS"}  # the kit's bars as a user sees them
    env |= {"KIT_RUNS": str(scratch / "runs"), "KIT_REGISTRY": str(scratch / "registry.sqlite"),
            "JUPYTER_CONFIG_DIR": str(scratch / "config"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(scratch / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = open(scratch / "lab.log", "w")  # noqa: SIM115 - the server writes to it until the finally below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={scratch / 'work'}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()  # the folder is removed below: the log's tail goes into the message
                    tail = (scratch / "lab.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"JupyterLab did not start; its log ends:\n{tail}") from None
                time.sleep(0.5)
        yield base, token, scratch
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)  # the panel's runs: a model folder per test


def _open_notebook(page, base, token):
    page.goto(f"{base}/lab/tree/panel.ipynb?token={token}&reset", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=120_000)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # the notebook gets the window's width


def _run_all(page):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_panel_in_jupyterlab_runs_shows_busy_state_and_survives_a_reload(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token, scratch = lab
    shots = scratch / "screenshots"
    shots.mkdir()
    print(f"\nbrowser test artifacts (screenshots, lab.log, runs): {scratch}")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        try:
            _open_notebook(page, base, token)
            _run_all(page)
            run_button = page.locator("button.kit-run")
            expect(run_button).to_be_visible(timeout=180_000)
            expect(page.locator(".kit-status")).to_contain_text("No pilot run yet", timeout=30_000)
            assert page.get_by_text("Error displaying widget").count() == 0
            page.locator(".kit-preset select").select_option(label="quick look")
            expect(page.locator(".kit-preset-note")).to_contain_text("not a validation")
            page.screenshot(path=str(shots / "1-panel.png"))

            run_button.click()  # the busy state: button disabled and relabelled, a stage line with time
            expect(run_button).to_be_disabled(timeout=15_000)
            expect(run_button).to_contain_text("Running")
            expect(page.locator("button.kit-cancel")).to_be_enabled()
            expect(page.locator(".kit-status")).to_contain_text("elapsed", timeout=30_000)
            page.screenshot(path=str(shots / "2-busy.png"))

            # Reload mid-run (after saving, as JupyterLab's autosave would): the panel comes back from the kernel.
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            time.sleep(1)
            page.reload(wait_until="domcontentloaded")
            _open_notebook(page, base, token)
            status = page.locator(".kit-status")
            expect(status).to_be_visible(timeout=60_000)
            assert page.get_by_text("Error displaying widget").count() == 0
            page.screenshot(path=str(shots / "3-after-reload.png"))
            result = page.locator(".kit-result")
            expect(result).to_contain_text("Decision:", timeout=RESULT_TIMEOUT_MS)
            expect(result.locator("table").first).to_be_visible()
            expect(page.locator("button.kit-run")).to_be_enabled()
            expect(page.locator("button.kit-run")).to_contain_text("Run pilot")
            expect(status).to_contain_text("[eval] bnb-int8")  # the stage lines, read from the run folder
            assert result.inner_text().count("keep the baseline") <= 1  # one decision sentence
            page.set_viewport_size({"width": 1280, "height": 1800})  # the whole panel, for docs/img/panel.png
            page.locator(".kit-panel").screenshot(path=str(shots / "4-result.png"))
            page.set_viewport_size({"width": 1280, "height": 1000})

            # Showing the panel again (a re-run cell, or a new kernel) reads the latest run from its folder.
            _run_all(page)
            expect(page.locator(".kit-result")).to_contain_text("Decision:", timeout=120_000)
            expect(page.locator(".kit-status")).to_contain_text("finished")
        finally:
            page.screenshot(path=str(shots / "last.png"))
            browser.close()
    if os.environ.get("KIT_SCREENSHOT_TO_DOCS") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / "4-result.png", REPO / "docs" / "img" / "panel.png")
    runs = sorted((scratch / "runs").glob("panel-*/panel-status.json"))
    assert runs and json.loads(runs[-1].read_text())["state"] == "done"
    assert not errors, "browser console errors:\n" + "\n".join(errors)
