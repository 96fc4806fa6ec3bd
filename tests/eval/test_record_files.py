"""Record files: one record or a list read back; every bad file named with the item and the fix."""

import json

import pytest

from kit.errors import KitError
from kit.eval.record_files import read_records


def _record(**accuracy):
    return {"schema": "kit.eval/1", "model": {"ref": "m", "sha256": "a" * 64}, "protocol": {},
            "eval_set": {"name": "docs", "kind": "text", "sha256": "b" * 64},
            "accuracy": {"perplexity": 12.5, "tokens_scored": 100} | accuracy}


def test_one_record_or_a_list_is_read_as_written(tmp_path):
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text(json.dumps(_record()))
    many.write_text(json.dumps([_record(), _record()]))
    assert read_records([one, many]) == [_record()] * 3


@pytest.mark.parametrize("content, message", [
    (b"{", "is not JSON"), (b"\xff\xfe", "is not UTF-8"), (b"[]", "empty list"),
    (json.dumps({"schema": "other"}).encode(), "not a kit.eval/1"),
    (json.dumps([_record(), _record(perplexity="12")]).encode(), "item 2: its accuracy.perplexity is not a number"),
])
def test_bad_files_are_named_with_the_fix(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(KitError, match=message) as err:
        read_records([path])
    assert str(path) in str(err.value) and str(err.value).endswith("pass a file written by `kit eval --json`")


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(KitError, match="cannot read"):
        read_records([tmp_path / "absent.json"])
