import json

import pytest

from kit.errors import KitError
from kit.eval.sets import bundled_sets, infer_kind, load_set


def test_bundled_sets_have_cards_and_kinds():
    for folder, expected in (("eval", {"text", "multiple_choice", "generation"}), ("calibration", {"text"})):
        sets = bundled_sets(folder)
        kinds = {load_set(name, folder=folder).kind for name in sets}
        assert kinds == expected
        for path in sets.values():
            assert path.with_suffix(".md").is_file(), f"{path.name} has no card"


def test_mc_set_is_large_enough_and_valid():
    mc = load_set("everyday-mc")
    assert mc.kind == "multiple_choice" and len(mc.items) >= 150
    assert all(0 <= it["answer"] < len(it["choices"]) for it in mc.items)


def test_calibration_and_evaluation_do_not_overlap():
    evaluation = set(load_set("stdlib-docs").texts())
    for name in bundled_sets("calibration"):
        assert not evaluation & set(load_set(name, folder="calibration").texts())


def test_kind_is_inferred_from_keys():
    assert infer_kind({"text": "x"}) == "text"
    assert infer_kind({"prompt": "p", "choices": ["a", "b"], "answer": 0}) == "multiple_choice"
    assert infer_kind({"prompt": "p", "reference": "r"}) == "generation"
    with pytest.raises(KitError, match="matches no kind"):
        infer_kind({"question": "?"})


def test_malformed_line_reports_its_line_number(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"text": "fine"}) + "\n" + "{not json\n")
    with pytest.raises(KitError, match=r"bad.jsonl:2: not valid JSON"):
        load_set(str(f))


def test_invalid_mc_answer_and_mixed_kinds(tmp_path):
    f = tmp_path / "mc.jsonl"
    f.write_text(json.dumps({"prompt": "p", "choices": ["a", "b"], "answer": 5}) + "\n")
    with pytest.raises(KitError, match=r"mc.jsonl:1: a multiple_choice record needs"):
        load_set(str(f))
    f.write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"prompt": "p", "reference": "r"}) + "\n")
    with pytest.raises(KitError, match=r":2: a generation record in a text set"):
        load_set(str(f))


def test_empty_and_missing_sets(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(KitError, match="has no records"):
        load_set(str(tmp_path / "empty.jsonl"))
    (tmp_path / "empty.txt").write_text("   ")
    with pytest.raises(KitError, match="has no records"):
        load_set(str(tmp_path / "empty.txt"))
    with pytest.raises(KitError, match="not found; give a file path or one of"):
        load_set("no-such-set")
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(KitError, match="unsupported file type"):
        load_set(str(tmp_path / "x.csv"))


def test_txt_file_is_a_text_set_with_hash(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("Some text to score.")
    s = load_set(str(f))
    assert s.kind == "text" and s.info()["records"] == 1 and len(s.sha256) == 64
