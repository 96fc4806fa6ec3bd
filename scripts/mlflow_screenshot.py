"""Screenshots of the MLflow UI showing an exported registry entry, for docs/mlflow.md.

Starts ``mlflow server`` on a free 127.0.0.1 port with a temporary SQLite store, exports a
registry into it (``--registry PATH``, or a demo registry: a pass, a fail and an inconclusive
entry built from hand-made harness records, labelled ``demo`` in their refs), opens the
passing entry's run and the quantized model's version page in headless Chromium, saves the
screenshots and stops the server. Needs the ``mlflow`` extra, Playwright and Debian's
``chromium`` (``.ci/run`` installs it).

    python scripts/mlflow_screenshot.py                    # writes docs/img/mlflow-run.png, mlflow-model.png
    python scripts/mlflow_screenshot.py --out-dir /tmp/shots
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STACK = {"packages": {"torch": "2.13.0+cpu", "transformers": "5.17.0"}, "device": "cpu", "gpu": None,
         "cuda_version": None}


def demo_registry(path: Path) -> str:
    """A registry with a pass (returned id), a fail and an inconclusive RTN entry, from hand-made records."""
    from kit.govern.gate import gate
    from kit.govern.policy import MetricLimit, UseCasePolicy
    from kit.govern.registry import Registry
    from tests.helpers import synthetic_record

    policy = UseCasePolicy(
        name="chat-assistant", description="demo", default_method="rtn", eval_sets=("stdlib-docs",),
        metrics=(MetricLimit(metric="perplexity", eval_set="stdlib-docs", direction="lower", limit_kind="relative",
                             limit=0.10, min_samples=1),))
    ids = []
    with Registry.open(path) as reg:
        for ppl, sha, group in ((12.0, "a" * 64, 64), (14.0, "c" * 64, 256), (12.88, "e" * 64, 128)):
            base = [synthetic_record()]
            cand = [synthetic_record(sha=sha, perplexity=ppl, method="rtn", bits=4, ref=f"demo/rtn-w4-g{group}")]
            cand[0]["latency"] = {"prompt_tokens": 128, "new_tokens": 32, "ttft_ms": 95.0, "decode_ms_p50": 38.2}
            cand[0]["throughput"] |= {"decode_tokens_per_s": 26.2}
            config = {"method": "rtn", "bits": 4, "group_size": group, "files": {"model.safetensors": sha},
                      "calibration": None}
            ids.append(reg.add(baseline=base, candidate=cand, quant_config=config, owner="demo",
                               verdict=gate(baseline=base, candidate=cand, policy=policy)).id)
    return ids[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def mlflow_server(uri: str, workdir: Path) -> Iterator[str]:
    """``mlflow server`` on a loopback port (its log in ``workdir``); stopped on exit."""
    port = _free_port()
    log = open(workdir / "mlflow-server.log", "w")  # noqa: SIM115 — closed below, after the server stops
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "--artifacts-destination", str(workdir / "served")],
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise SystemExit(f"error: mlflow server exited ({proc.returncode}); see {workdir / 'mlflow-server.log'}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/health", timeout=2).close()
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"error: mlflow server did not answer in 120 s; see {workdir / 'mlflow-server.log'}")
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def screenshots(*, url: str, pages: dict[str, tuple[str, str, int]], out_dir: Path) -> list[Path]:
    """Open each page (path, text to wait for, height) in headless Chromium and save ``out_dir/<name>``."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("error: Chromium is not installed (Debian: apt-get install -y chromium)")
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        for name, (path, text, height) in pages.items():
            page.set_viewport_size({"width": 1440, "height": height})
            page.goto(f"{url}/{path}")
            page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
            with contextlib.suppress(Exception):  # the assistant side panel (MLflow 3.x) covers a third of the page
                page.get_by_role("button", name="Close", exact=True).first.click(timeout=3_000)
            time.sleep(3.0)  # the UI polls (never network-idle): let tables and charts settle
            written.append(out_dir / name)
            page.screenshot(path=str(written[-1]))
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Export, serve, screenshot, stop; print the files written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs" / "img"), help="where the PNGs go (default docs/img)")
    parser.add_argument("--registry", default=None, help="export this registry instead of the demo one")
    args = parser.parse_args(argv)
    os.environ.setdefault("KIT_PROGRESS", "0")
    from mlflow import MlflowClient

    from kit.govern.mlflow_fields import experiment_name, quantized_model_name
    from kit.govern.mlflow_sync import export_registry
    from kit.govern.registry import Registry

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kit-mlflow-shot-") as tmp:
        work = Path(tmp)
        uri = f"sqlite:///{work / 'mlflow.db'}"
        registry = args.registry or str(work / "registry.sqlite")
        first = demo_registry(Path(registry)) if not args.registry else None
        with Registry.open(registry) as reg:
            entry = reg.get(first) if first else reg.list()[0]
            export_registry(registry=reg, tracking_uri=uri, stack=STACK if not args.registry else None, progress=False)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        run = client.search_runs([client.get_experiment_by_name(experiment_name(entry)).experiment_id],
                                 filter_string=f"tags.`kit.entry_id` = '{entry.id}' and tags.`kit.run_kind` = 'entry'")[0]
        name = quantized_model_name(entry)
        version = client.search_model_versions(f"name = '{name}' and tags.`kit.sha256` = '{entry.model_sha256}'")[0].version
        with mlflow_server(uri, work) as url:
            written = screenshots(url=url, out_dir=out_dir, pages={
                "mlflow-run.png": (f"#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}", "kit.decision", 1250),
                "mlflow-model.png": (f"#/models/{name}/versions/{version}", "quantized_from", 700),
            })
    for path in written:
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
