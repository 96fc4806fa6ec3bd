"""Generate exercise notebooks from solutions, and keep committed notebooks clean.

A solution cell marks its answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.
The exercise copy replaces that region with a stub raising ``NotImplementedError``; a
``# HINT: ...`` line inside the region becomes the stub's message. The exercises folder's
stamp records what the kit wrote, so a learner's edited exercise is never replaced without
``overwrite`` (and then a copy is kept first).
"""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat

from kit.clock import folder_stamp
from kit.errors import KitError
from kit.io import read_stamp, runs_dir, write_stamp

__all__ = ["BEGIN", "END", "EXERCISES_KIND", "check_clean", "check_exercises", "clean", "generate_exercises", "stub_source"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
_HINT = re.compile(r"^\s*#\s*HINT:\s*(.+)$")
EXERCISES_KIND = "exercises"  # the exercises folder's kind (kit.io.write_stamp)


def stub_source(source: str, *, where: str = "cell") -> str:
    """Replace each solution region in ``source`` with a hinting ``NotImplementedError`` stub.

    Args:
        source: a code cell's text.
        where: location used in error messages.
    """
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in source.splitlines():
        if line.strip() == BEGIN:
            if region is not None:
                raise KitError(f"{where}: nested '{BEGIN}'; close the first region with '{END}'")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif line.strip() == END:
            if region is None:
                raise KitError(f"{where}: '{END}' without '{BEGIN}'")
            hints = [m.group(1).strip() for m in map(_HINT.match, region) if m]
            message = hints[0] if hints else "replace this line with your answer"
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError({message!r})")
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise KitError(f"{where}: '{BEGIN}' is never closed; add '{END}'")
    return "\n".join(out)


def clean(nb: Any) -> Any:
    """Return a copy with outputs, execution counts and widget state removed, kernelspec ``python3``.

    Args:
        nb: an ``nbformat`` notebook.
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def _exercise_of(path: Path) -> Any:
    nb = clean(nbformat.read(path, as_version=4))
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = stub_source(cell.source, where=f"{path.name} cell {i}")
    return nb


def _write(text: str, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def generate_exercises(*, solutions: str | Path = "solutions", exercises: str | Path = "exercises",
                       overwrite: bool = False, kept: list[Path] | None = None) -> list[Path]:
    """Write ``exercises/X.ipynb`` for every ``solutions/X.ipynb``; return the paths written.

    An exercise that differs both from what the kit last wrote there and from what it would
    write now was edited by a learner: refused (nothing written) unless ``overwrite``, which
    first copies it to ``runs/exercise-backups/<time>/``.

    Args:
        solutions: folder of worked notebooks.
        exercises: folder for the generated copies.
        overwrite: replace edited exercises (after keeping a copy of each).
        kept: a list to extend with the backup copies made.
    """
    src, dst = Path(solutions), Path(exercises)
    paths = sorted(src.glob("*.ipynb"))
    if not paths:
        raise KitError(f"no notebooks in {src}; run from the repository root or pass --solutions")
    texts = {p.name: nbformat.writes(_exercise_of(p)) + "\n" for p in paths}
    recorded = ((read_stamp(dst) or {}).get("files") or {}) if dst.is_dir() else {}
    edited = []
    for name, text in texts.items():
        target = dst / name
        if target.is_file():
            current = target.read_bytes()
            if current.decode(errors="replace").rstrip("\n") != text.rstrip("\n") and \
                    recorded.get(name) != hashlib.sha256(current).hexdigest():
                edited.append(target)
    if edited and not overwrite:
        raise KitError(f"{', '.join(str(p) for p in edited[:3])} {'has' if len(edited) == 1 else 'have'} your edits "
                       "(not what the kit wrote); nothing written: pass --overwrite to replace "
                       "(a copy of each is kept first) or choose another --exercises")
    if edited:
        backup = runs_dir() / "exercise-backups" / folder_stamp()
        backup.mkdir(parents=True, exist_ok=True)
        for path in edited:
            shutil.copy2(path, backup / path.name)
            if kept is not None:
                kept.append(backup / path.name)
    dst.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        target = dst / name
        if not target.is_file() or target.read_text(encoding="utf-8", errors="replace") != text:
            _write(text, target)
        written.append(target)
    write_stamp(dst, kind=EXERCISES_KIND, files={**recorded, **{name: _sha(text) for name, text in texts.items()}})
    return written


def check_exercises(*, solutions: str | Path = "solutions", exercises: str | Path = "exercises") -> list[str]:
    """Problems where ``exercises/`` drifted from what ``solutions/`` generate (empty when in sync).

    Args:
        solutions: folder of worked notebooks.
        exercises: folder of generated copies.
    """
    src, dst = Path(solutions), Path(exercises)
    sources = sorted(src.glob("*.ipynb"))
    if not sources:  # checking nothing must not report "in sync"
        raise KitError(f"found no solutions folder with notebooks at '{src}' (working folder {Path.cwd()}); "
                       "run from the repository root or pass --solutions")
    expected = {p.name: nbformat.writes(_exercise_of(p)) for p in sources}
    problems = []
    for name, text in expected.items():
        target = dst / name
        if not target.is_file():
            problems.append(f"{target} is missing; run `kit exercises generate`")
        elif target.read_text().rstrip("\n") != text.rstrip("\n"):
            problems.append(f"{target} differs from its solution; run `kit exercises generate`")
    for extra in sorted(set(p.name for p in dst.glob("*.ipynb")) - set(expected)):
        problems.append(f"{dst / extra} has no solution in {src}; remove it or add the solution")
    return problems


def check_clean(paths: list[str | Path]) -> list[str]:
    """Notebooks committed with outputs, execution counts, or a kernelspec other than ``python3``.

    Args:
        paths: notebook files to check.
    """
    problems = []
    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        if nbformat.writes(clean(nb)) != nbformat.writes(nb):
            problems.append(f"{path} has outputs or a non-python3 kernelspec; run `kit exercises clean`")
    return problems
