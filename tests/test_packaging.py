"""The kit as a package: bundled data found through importlib.resources, and a wheel that works outside the checkout."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kit._bundled import bundled_path

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "kit"


def test_bundled_files_are_the_repository_sources():
    """In the checkout, ``kit/_bundled/{data,policies}`` are the top-level folders people edit (one copy)."""
    for name in ("data", "policies", "notebooks"):
        link = KIT / "_bundled" / name
        assert link.is_symlink() and os.readlink(link) == f"../../{name}", f"{link} must be a relative symlink to {name}/"
        assert bundled_path(name).resolve() == (ROOT / name).resolve()
    assert bundled_path("policies", "tolerances.yaml").is_file()
    assert sorted(bundled_path("data", "eval").glob("*.jsonl")), "the bundled eval sets are reachable"


def test_overrides_still_win(tmp_path, monkeypatch):
    from kit.eval.sets import data_dir
    from kit.io import runs_dir

    monkeypatch.setenv("KIT_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("KIT_RUNS", str(tmp_path / "r"))
    assert data_dir() == tmp_path / "d" and runs_dir() == tmp_path / "r"
    monkeypatch.delenv("KIT_DATA")
    monkeypatch.delenv("KIT_RUNS")
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    assert data_dir() == bundled_path("data")
    assert runs_dir() == tmp_path / "cache" / "runs", "runs default to a per-user place, never the install location"


def _reaches_outside(path: Path) -> list[str]:
    """``Path(__file__)`` climbing to a parent (``.parent.parent`` or ``.parents[n]``) outside the module's own package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "parent":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .parent.parent")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .parents[...]")
    return sorted(set(found))  # `.parent.parent.parent` is one climb, reported once


def test_no_module_reaches_outside_the_package_for_files():
    """Data comes through importlib.resources (kit._bundled); the one allowed climb is the git-checkout probe."""
    allowed = {"kit/environment.py"}  # _git_commit: the commit only when kit/ sits in its own git checkout
    found = [hit for p in sorted(KIT.rglob("*.py")) if str(p.relative_to(ROOT)) not in allowed
             for hit in _reaches_outside(p)]
    assert found == [], "read run-time files through kit._bundled.bundled_path (see docs/install.md):\n" + "\n".join(found)


def _build_wheel(out: Path) -> Path:
    """A wheel built from a copy of the sources (the checkout gets no build/ or egg-info)."""
    src = out / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("kit", "data", "policies", "notebooks"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(out / "dist"), f"{src}{os.sep}"], check=True, capture_output=True, timeout=300)
    [wheel] = (out / "dist").glob("quant_kit-*.whl")
    return wheel


def _venv_with_wheel(where: Path, wheel: Path) -> Path:
    """A fresh venv holding the wheel; the dependencies (torch, ...) come from this venv through a .pth file.

    A path listed in a .pth file is not itself scanned for .pth files, so the editable install's
    finder is never loaded there: ``kit`` can only come from the wheel.
    """
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    py = where / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: never touch the editable quant-kit the borrowed site-packages holds
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return where


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.slow
def test_wheel_runs_sets_and_eval_from_an_unrelated_folder(tmp_path):
    """``pip install`` (not -e) into a fresh venv: the sets and policies ship inside, nothing is written beside the install."""
    wheel = _build_wheel(tmp_path / "build")
    names = __import__("zipfile").ZipFile(wheel).namelist()
    assert "kit/_bundled/policies/tolerances.yaml" in names and "kit/_bundled/data/eval/stdlib-docs.jsonl" in names
    assert "kit/_bundled/notebooks/00_setup_check.ipynb" in names, "the notebooks `kit report` executes ship too"

    project = tmp_path / "other-repo"  # a git repository that is not the kit: the record must not take its commit
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    venv = _venv_with_wheel(project / "venv", wheel)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_DATA", "KIT_POLICIES", "KIT_RUNS", "PYTHONPATH"))}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "KIT_PROGRESS": "0", "HF_HUB_OFFLINE": "1"}

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    where = run(str(venv / "bin" / "python"), "-c", "import kit, kit.io, kit.govern.policy as p; "
                "print(kit.__file__); print(kit.io.runs_dir()); print(p.policy_path()); print(len(p.load_policies()))")
    kit_file, runs, policies, count = where.splitlines()
    assert Path(kit_file).is_relative_to(venv), f"kit came from {kit_file}, not the wheel"
    assert Path(policies).is_relative_to(venv) and int(count) >= 1
    assert not Path(runs).is_relative_to(venv)

    before = _tree(venv)
    listing = run(str(venv / "bin" / "kit"), "sets")
    assert "stdlib-docs" in listing and "stdlib-docs-calib" in listing
    out = run(str(venv / "bin" / "kit"), "eval", "--model", "smollm2-135m", "--eval", "stdlib-docs",
              "--max-tokens", "256", "--no-speed", "--json", "rec.json")
    assert "smollm2-135m on stdlib-docs: ppl" in out
    record = json.loads((work / "rec.json").read_text())
    assert Path(record["eval_set"]["path"]).is_relative_to(venv), "the set came from the wheel"
    assert record["environment"]["git_commit"] is None, "an installed wheel has no commit of its own"
    assert _tree(venv) == before, "nothing is written next to the installed package"
    assert sorted(p.name for p in work.iterdir()) == ["rec.json"]
