"""Exercises are generated from solutions, stay in sync, and fail helpfully until solved."""

import ast
import shutil
from pathlib import Path

import nbformat
import pytest

from kit.errors import KitError
from kit.teach.exercises import BEGIN, END, check_clean, check_exercises, generate_exercises, stub_source

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_stub_keeps_code_outside_the_region_and_uses_the_hint():
    src = f"x = 1\n{BEGIN}\n# HINT: add one\ny = x + 1\n{END}\nprint(y)"
    out = stub_source(src)
    assert out.splitlines()[0] == "x = 1" and out.splitlines()[-1] == "print(y)"
    assert "raise NotImplementedError('add one')" in out and "x + 1" not in out


def test_stub_keeps_indentation_and_defaults_the_message():
    out = stub_source(f"def f():\n    {BEGIN}\n    return 2\n    {END}")
    assert "    raise NotImplementedError('replace this line with your answer')" in out


@pytest.mark.parametrize("src,message", [
    (f"{BEGIN}\nx = 1", "never closed"),
    (f"x = 1\n{END}", "without"),
    (f"{BEGIN}\n{BEGIN}\n{END}", "nested"),
])
def test_malformed_regions_are_refused(src, message):
    with pytest.raises(KitError, match=message):
        stub_source(src, where="nb cell 3")


def test_every_solution_has_a_region_and_at_least_five_exercises_exist():
    regions = 0
    for path in SOLUTIONS:
        nb = nbformat.read(path, as_version=4)
        found = sum(c.source.count(BEGIN) for c in nb.cells if c.cell_type == "code")
        assert found, f"{path.name} has no {BEGIN} region"
        regions += found
    assert len(SOLUTIONS) >= 5 and regions >= 5


def test_committed_exercises_match_their_solutions():
    assert check_exercises(solutions=ROOT / "solutions", exercises=ROOT / "exercises") == []
    assert [p.name for p in EXERCISES] == [p.name for p in SOLUTIONS]


def test_generation_is_idempotent(tmp_path):
    first = generate_exercises(solutions=ROOT / "solutions", exercises=tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    generate_exercises(solutions=ROOT / "solutions", exercises=tmp_path / "b")
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
        assert path.read_text().rstrip() == (ROOT / "exercises" / path.name).read_text().rstrip()


def test_drift_is_detected(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "ex")
    victim = tmp_path / "ex" / EXERCISES[0].name
    nb = nbformat.read(victim, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('edited by hand')"))
    nbformat.write(nb, victim)
    (tmp_path / "ex" / "orphan.ipynb").write_text(victim.read_text())
    problems = check_exercises(solutions=ROOT / "solutions", exercises=tmp_path / "ex")
    assert any("differs from its solution" in p for p in problems)
    assert any("has no solution" in p for p in problems)


def test_committed_notebooks_are_clean_with_python3_kernels():
    assert check_clean(NOTEBOOKS + SOLUTIONS + EXERCISES) == []
    for path in NOTEBOOKS + SOLUTIONS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"


# Tiny sizes: each exercise runs only until its first stub.
_TINY = {"max_tokens": 256, "limit": 20, "samples": 4, "seq_len": 64}


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_unsolved_exercise_fails_with_its_hint(path, tmp_path):
    import papermill as pm

    from kit.papermill_run import run_headless

    nb = nbformat.read(path, as_version=4)
    params_cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params = {k: v for k, v in _TINY.items() if f"{k} =" in params_cell.source}
    stub_line = next(line for c in nb.cells if c.cell_type == "code"
                     for line in c.source.splitlines() if "raise NotImplementedError(" in line)
    hint = ast.literal_eval(stub_line.split("raise NotImplementedError(", 1)[1].rsplit(")", 1)[0])
    with pytest.raises(pm.PapermillExecutionError) as info:
        run_headless(notebook=path, scratch=tmp_path, parameters=params)
    assert info.value.ename == "NotImplementedError" and hint in info.value.evalue
