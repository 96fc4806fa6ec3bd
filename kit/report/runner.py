"""Run a report notebook with papermill and write its folder atomically: notebook, report.html, figures, summary.json.

Parameters are checked against the notebook's schema, and what they name checked to exist,
before a kernel starts. The notebook runs in a temp folder beside the destination; only a
complete run is renamed into place. A failing cell is named in the error and the partial
notebook is kept under ``runs/report-failures/`` (private, secrets masked). The registry
reaches the kernel through the environment, never as a parameter written into the notebook.
The kernel's connection file lives in a kit-owned runtime folder removed on exit; what a
killed run left (locks, partial folders, runtime folders) is removed with a ``[cleanup]`` line.
The HTML is the executed notebook without code, stream output (warnings, progress bars) or
widget state, self-contained and under :data:`MAX_HTML_BYTES`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kit.clock import folder_stamp
from kit.errors import KitError
from kit.io import atomic_dir, cache_dir, check_replaceable, runs_dir
from kit.leftovers import clean_stale, pid_alive
from kit.report.params import ADOPTION, PILOT, REVALIDATION, check_parameters

__all__ = ["MAX_HTML_BYTES", "NOTEBOOKS", "REPORT_FILES", "check_out", "cleanup_left_overs", "export_html",
           "failures_dir", "mask_secrets", "reader_copy", "report_kind", "run_report", "store_summary"]

#: report kind → (notebook under notebooks/, parameter schema, page title prefix)
NOTEBOOKS = {
    "pilot": ("06_pilot_report.ipynb", PILOT, "Pilot report"),
    "adoption": ("07_adoption_dashboard.ipynb", ADOPTION, "Adoption dashboard"),
    "revalidation": ("08_revalidate_after_upgrade.ipynb", REVALIDATION, "Re-validation after upgrade"),
}
#: what a finished report folder holds besides the figures (``*.png``)
REPORT_FILES = ("report.ipynb", "report.html", "summary.json")
MAX_HTML_BYTES = 2_000_000
_QUIET = {"KIT_PROGRESS": "0", "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error", "PYTHONWARNINGS": "ignore",
          "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "MPLBACKEND": "Agg"}
_WIDGET = "application/vnd.jupyter.widget-view+json"
_KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]  # no "running over TCP without encryption" line on the console
_URL_PASSWORD = re.compile(r"://([^:/@\s'\"]+):[^@\s'\"]*@")
# JupyterLab's stylesheet fixes the table layout, so long headers overlap the next column on a static page.
_PAGE_CSS = ".jp-RenderedHTMLCommon table { table-layout: auto; }"


def failures_dir() -> Path:
    """Where partial notebooks of failed report runs are kept: ``runs/report-failures/``."""
    return runs_dir() / "report-failures"


def report_kind(kind: str) -> str:
    """The folder kind a report of ``kind`` is stamped with (``pilot report``...; see :func:`kit.io.check_replaceable`).

    Args:
        kind: ``pilot``, ``adoption`` or ``revalidation``.
    """
    return f"{kind} report"


def check_out(out: str | os.PathLike[str], *, kind: str, overwrite: bool) -> Path:
    """``out`` resolved, refused now if it exists without ``overwrite`` or is not a ``kind`` folder the kit wrote.

    Args:
        out: the folder to create.
        kind: what it will be (:func:`report_kind`, ``report batch``).
        overwrite: whether an existing folder of the same kind may be replaced.
    """
    path = Path(out).expanduser().resolve()
    if path.exists() and not overwrite:
        raise KitError(f"{path} already exists; choose another --out or pass --overwrite")
    if path.exists() or Path(out).expanduser().is_symlink():
        check_replaceable(path, kind=kind)  # a baseline, an artifact, a user's folder: refused before any work
    return path


def mask_secrets(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with URL passwords (``://user:***@``) and each of ``secrets`` masked.

    Args:
        text: a notebook, log or message.
        secrets: exact strings to mask as well (the registry URL's password).
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL_PASSWORD.sub(r"://\1:***@", text)


def _password(registry: str) -> str:
    from urllib.parse import unquote, urlsplit

    try:
        return unquote(urlsplit(registry).password or "") if "://" in registry else ""
    except ValueError:
        return ""


def _runtime_root() -> Path:
    return cache_dir() / "kernel-runtime"


def cleanup_left_overs() -> list[Path]:
    """Remove what killed runs left: stale locks and partial folders in the runs folder, their kernels' runtime folders."""
    removed = clean_stale(runs_dir())
    with contextlib.suppress(OSError):
        for folder in _runtime_root().iterdir():
            pid = folder.name.split("-")[0]
            if folder.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def _kernel_env(registry: str) -> Iterator[None]:
    """The kernel's environment: quiet libraries, the registry, a private runtime folder (removed on exit)."""
    _runtime_root().mkdir(parents=True, exist_ok=True)
    runtime = tempfile.mkdtemp(dir=_runtime_root(), prefix=f"{os.getpid()}-")
    env = dict(_QUIET, JUPYTER_RUNTIME_DIR=runtime)
    if registry:  # by the environment, so the value is never written into the executed notebook
        from kit.govern._registry_db import is_postgres_url

        env["KIT_REGISTRY_URL" if is_postgres_url(registry) else "KIT_REGISTRY"] = (
            registry if is_postgres_url(registry) else str(Path(registry).expanduser().resolve()))
    drop = ("KIT_REGISTRY_URL",) if registry and "KIT_REGISTRY" in env else ()
    before = {k: os.environ.get(k) for k in (*env, *drop)}
    os.environ.update(env)
    for k in drop:
        os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(runtime, ignore_errors=True)


def reader_copy(nb: Any) -> Any:
    """A copy of a notebook for readers: no stream output, widget state, errors, or cells tagged ``report-skip``.

    Args:
        nb: an executed ``nbformat`` notebook.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        if "report-skip" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            kept = []
            for out in cell.get("outputs", []):
                if out.output_type in ("stream", "error"):
                    continue
                if "data" in out:
                    out.data.pop(_WIDGET, None)
                    if not out.data:
                        continue
                kept.append(out)
            cell.outputs = kept
            if not kept:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def export_html(notebook: str | os.PathLike[str], dest: str | os.PathLike[str], *, title: str,
                max_bytes: int = MAX_HTML_BYTES) -> Path:
    """Write the executed notebook as a code-free, self-contained HTML page.

    Args:
        notebook: the executed notebook.
        dest: the HTML file to write.
        title: the page title.
        max_bytes: refuse a page larger than this.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = reader_copy(nbformat.read(notebook, as_version=4))
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', "", body)  # require.js, MathJax: unused
    body = body.replace("</head>", f"<style>{_PAGE_CSS}</style>\n</head>", 1)
    body = re.sub(r"<script[^>]*>\s*MathJax\.Hub\.Config.*?</script>", "", body, flags=re.S)
    size = len(body.encode())
    if size > max_bytes:
        raise KitError(f"report.html would be {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
                       "show fewer or smaller figures")
    Path(dest).write_text(body, encoding="utf-8")
    return Path(dest)


def _failed_cell(exc: Any) -> str:
    where = f"cell {exc.cell_index}" if getattr(exc, "cell_index", None) is not None else "a cell"
    first = next((line.strip() for line in str(getattr(exc, "source", "")).splitlines() if line.strip()), "")
    where += f" (`{first[:70]}`)" if first else ""
    value = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
    return f"{where}: {exc.ename}: {value}"


def store_summary(*, summary: dict[str, Any], registry: str, path: str | os.PathLike[str]) -> int:
    """Store a pilot report's summary on each registry entry it covers; return how many.

    Args:
        summary: the report's ``summary.json`` content.
        registry: the registry location ('' for the default).
        path: the final report folder.
    """
    from kit.govern.registry import Registry

    ids = summary.get("provenance", {}).get("entries") or []
    with Registry.open(registry or None) as reg:
        return len(reg.attach_report(entry_ids=ids, summary=summary, kind=summary.get("kind", "pilot"), path=str(path)))


def run_report(*, kind: str, out: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
               overwrite: bool = False, timeout: int = 1800, store: bool = True) -> dict[str, Any]:
    """Execute a report notebook and write its folder; return the summary (``summary.json``).

    Args:
        kind: ``pilot``, ``adoption`` or ``revalidation``.
        out: the report folder to create.
        parameters: notebook parameters (checked against the schema first; ``output_dir`` is set here).
        overwrite: replace an existing report folder.
        timeout: seconds one cell may run.
        store: store a pilot report's summary on the registry entries it covers (after the folder is in place).
    """
    if kind not in NOTEBOOKS:
        raise KitError(f"unknown report kind '{kind}'; choose one of {', '.join(NOTEBOOKS)}")
    path, schema, title = NOTEBOOKS[kind]
    given = dict(parameters or {})
    if "output_dir" in given:
        raise KitError("output_dir is set by the runner; give the report folder as --out")
    params = check_parameters(schema=schema, given=given)  # before any work
    out = check_out(out, kind=report_kind(kind), overwrite=overwrite)
    from kit.report.preflight import check_references

    check_references(kind=kind, params=params)
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from kit._bundled import bundled_path
    from kit.console import stage

    registry, secret = params["registry"], _password(params["registry"])
    cleaned = cleanup_left_overs()
    with atomic_dir(out, overwrite=overwrite, kind=report_kind(kind), cleaned=cleaned) as tmp:
        for left in cleaned:
            stage("cleanup", f"removed {left}, left by an interrupted run")
        executed = tmp / REPORT_FILES[0]
        try:
            with _kernel_env(registry):
                papermill.execute_notebook(str(bundled_path("notebooks", path)), str(executed),
                                           parameters=params | {"registry": "", "output_dir": str(tmp)},
                                           kernel_name="python3", progress_bar=False, log_output=False,
                                           cwd=os.getcwd(), execution_timeout=timeout,  # relative paths as typed
                                           extra_arguments=_KERNEL_ARGS)
        except PapermillExecutionError as exc:
            keep = failures_dir() / f"{out.name}-{folder_stamp()}.ipynb"
            keep.parent.mkdir(parents=True, exist_ok=True)
            text = executed.read_text(encoding="utf-8") if executed.is_file() else "{}"
            fd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private: it may hold paths and data
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(mask_secrets(text, secrets=(secret,)))
            raise KitError(mask_secrets(f"{kind} report failed in {_failed_cell(exc)}; no report written to {out}; "
                                        f"the partial notebook is kept at {keep}", secrets=(secret,))) from None
        summary_path = tmp / REPORT_FILES[2]
        if not summary_path.is_file():
            raise KitError(f"{path} ran but wrote no summary.json; its last cell must call the kit's save step")
        summary = json.loads(summary_path.read_text())
        label = summary.get("title") or f"{title}: {summary.get('model', '')} / {summary.get('use_case', '')}".strip(" :/")
        export_html(executed, tmp / REPORT_FILES[1], title=label)
    if store and kind == "pilot":
        store_summary(summary=summary, registry=registry, path=out)
    return summary
