"""Issue 27, the debugger's edges: bad numbers, foreign folders and typos refused before any model loads.

Each case drives the real CLI: exit code 2, one ``error:`` line naming the fix, and nothing the
user had changed. "Before work" is asserted by making the model loaders, the quantizer and
transformers fail if called (``no_load`` from the bad-input catalogue, plus :func:`no_work`).
"""

from __future__ import annotations

import json

import pytest

from kit.model_files import QUANT_FILE
from tests.test_bad_inputs import model_folder, no_load, one_error, run, snapshot  # noqa: F401 — no_load is a fixture


@pytest.fixture
def no_work(monkeypatch, no_load):  # noqa: F811 — the fixture imported above
    """Fail the case if a model loader or the quantizer is called."""
    import kit.debug.regressions as regressions
    import kit.models
    import kit.quant.quantize

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the bad input was refused")

    for owner, name in ((kit.models, "load_model"), (kit.quant.quantize, "quantize"), (regressions, "load_candidate"),
                        (regressions, "base_artifact")):
        monkeypatch.setattr(owner, name, refuse)


@pytest.fixture
def candidate(tmp_path):
    return model_folder(tmp_path / "cand", log="artifact")


DEBUG = ("debug", "--baseline", "smollm2-135m", "--use-case", "code-completion")


@pytest.mark.parametrize(("extra", "says"), [
    (["--tokens", "0"], "--tokens 0 is too few to compare; use at least 16"),
    (["--tokens", "-1"], "--tokens -1 is too few to compare"),
    (["--tokens", str(10**20)], f"--tokens {10**20} is more than the text set stdlib-docs holds"),
    (["--rows", "-1"], "--rows must be ≥ 1, got -1"),
    (["--rows", "0"], "--rows must be ≥ 1, got 0"),
    (["--top", "-1"], "--top must be ≥ 0, got -1"),
    (["--bisect", "--max-gates", "0"], "--max-gates must be ≥ 1, got 0 (the budget of gate runs counts the first one"),
    (["--bisect", "--max-gates", "-3"], "--max-gates must be ≥ 1, got -3"),
    (["--bisect", "--gate-tokens", "1"], "--gate-tokens must be ≥ 2"),
    (["--bisect", "--gate-limit", "0"], "--gate-limit must be ≥ 1"),
])
def test_debug_numbers_are_checked_before_loading(extra, says, candidate, tmp_path, capsys, no_work):
    before = snapshot(tmp_path)
    code, out, err = run(capsys, *DEBUG, "--candidate", candidate, *extra)
    assert code == 2 and says in one_error(err) and not out
    assert snapshot(tmp_path) == before


def test_debug_fix_out_over_an_existing_folder_is_refused_before_loading(candidate, tmp_path, capsys, no_work):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    before = snapshot(tmp_path)
    code, _, err = run(capsys, *DEBUG, "--candidate", candidate, "--bisect", "--fix-out", mine)
    assert code == 2 and "--fix-out" in one_error(err) and "already exists" in one_error(err)
    assert snapshot(tmp_path) == before


def test_debug_tokens_without_a_use_case_are_bounded_by_the_largest_text_set(candidate, capsys, no_work):
    code, _, err = run(capsys, "debug", "--baseline", "smollm2-135m", "--candidate", candidate, "--tokens", "10**20")
    assert code == 2 and "invalid int value" in one_error(err)  # argparse: not a number
    code, _, err = run(capsys, "debug", "--baseline", "smollm2-135m", "--candidate", candidate, "--tokens", str(10**9))
    line = one_error(err)
    assert code == 2 and "is more than the text set" in line and "pass --tokens 16.." in line


def test_debug_tokens_within_the_bound_pass_the_check():
    from kit.debug.diagnose import check_tokens

    check_tokens(tokens=4096, use_case="code-completion")  # below the set's bytes: capped later, not refused


@pytest.mark.parametrize("argv", [
    ("debug", "--baseline", "smollm2-135m", "--candidate", "CAND", "--use-case", "chat-asistant"),
    ("report", "pilot", "--model", "smollm2-135m", "--use-case", "chat-asistant", "--out", "OUT"),
    ("gate", "--baseline", "b.json", "--candidate", "c.json", "--use-case", "chat-asistant"),
])
def test_a_typo_in_a_use_case_is_answered_with_the_nearest_valid_name(argv, candidate, tmp_path, capsys, no_work):
    before = snapshot(tmp_path)
    argv = [str(candidate) if a == "CAND" else str(tmp_path / "report") if a == "OUT" else a for a in argv]
    code, out, err = run(capsys, *argv)
    line = one_error(err)
    assert code == 2 and not out
    assert "did you mean 'chat-assistant'?" in line
    assert "--use-case chat-asistant" not in line and "`kit pilot" not in line  # never suggests the typo back
    assert snapshot(tmp_path) == before


def test_a_typo_in_a_planted_regression_name_offers_the_real_one(tmp_path, capsys, no_work):
    code, _, err = run(capsys, "regressions", "plant", "misscaled-down-prj", "--out", tmp_path / "p")
    line = one_error(err)
    assert code == 2 and "did you mean 'misscaled-down-proj'?" in line
    assert not (tmp_path / "p").exists()


def test_nearest_offers_nothing_when_no_name_is_close():
    from kit.errors import nearest

    assert nearest("chat-asistant", ["chat-assistant", "code-completion"]) == " (did you mean 'chat-assistant'?)"
    assert nearest("zzz", ["chat-assistant", "code-completion"]) == ""


def _planted_like(folder, *, planted, extra=None):
    """A folder shaped like a planted regression (or, without ``planted``, like a quantized artifact)."""
    from kit.model_files import manifest

    root = model_folder(folder, log=None)
    log = {"method": "rtn", "bits": 8, "files": manifest(root)} | ({"planted": {"name": "x"}} if planted else {})
    (root / QUANT_FILE).write_text(json.dumps(log))
    if extra:
        (root / extra).write_text("the user's own file")
    return root


@pytest.mark.parametrize(("kind", "says"), [
    ("foreign", "is not a kit artifact (no kit-quantization.json)"),
    ("artifact", "is a kit artifact, not a planted regression"),
    ("planted-with-notes", "holds files the kit did not write (notes.txt)"),
    ("file", "is a file, not a folder"),
])
def test_plant_overwrite_refuses_what_it_may_not_replace_before_any_work(kind, says, tmp_path, capsys, no_work):
    out = tmp_path / "out"
    if kind == "foreign":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    elif kind == "artifact":
        _planted_like(out, planted=False)
    elif kind == "planted-with-notes":
        _planted_like(out, planted=True, extra="notes.txt")
    else:
        out.write_text("a file")
    before = snapshot(tmp_path)
    code, stdout, err = run(capsys, "regressions", "plant", "misscaled-down-proj", "--out", out, "--overwrite")
    assert code == 2 and says in one_error(err) and not stdout
    assert snapshot(tmp_path) == before


def test_plant_overwrite_accepts_a_planted_folder_the_kit_wrote(tmp_path):
    from kit.debug.regressions import check_planted_out

    out = _planted_like(tmp_path / "out", planted=True)
    check_planted_out(out, overwrite=True)  # replaceable: a planted regression, nothing added
