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
               "source": ["import time\nfrom tqdm.auto import tqdm\nfrom kit.console import stage\nfrom kit.teach.widgets import build_panel\n",
                          "def fake(**kw):\n    stage('fake', 'started')\n    for _ in tqdm(range(40), desc='perplexity'):\n        time.sleep(0.25)\n    raise KeyboardInterrupt\n",
                          "panel = build_panel(runner=fake)\n", "panel.widget"]}],
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
                    raise RuntimeError(f"JupyterLab did not start; see {scratch / 'lab.log'}") from None
                time.sleep(0.5)
        yield base, token, scratch
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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


def test_live(lab):
    from playwright.sync_api import expect, sync_playwright
    base, token, scratch = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        _open_notebook(page, base, token)
        _run_all(page)
        expect(page.locator("button.kit-run")).to_be_visible(timeout=180_000)
        page.locator("button.kit-run").click()
        time.sleep(5)
        page.screenshot(path="/tmp/w15/live.png")
        print("OUTPUT:", page.locator(".kit-panel .widget-output").inner_text())
        page.locator("button.kit-cancel").click()
        time.sleep(3)
        print("STATUS:", page.locator(".kit-status").inner_text())
        page.screenshot(path="/tmp/w15/live-cancel.png")
        browser.close()
