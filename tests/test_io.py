"""File helpers: writes land whole or not at all, a path is checked before work, only the kit's own folders are replaced."""

import json
import os

import pytest

from kit.errors import KitError
from kit.io import STAMP, atomic_dir, atomic_write_json, check_replaceable, check_writable, read_stamp


def test_atomic_write_json_creates_parents_replaces_whole_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a" / "b" / "result.json"
    atomic_write_json(path, {"x": 1})
    atomic_write_json(path, {"x": 2, "when": tmp_path})  # not JSON-native: written as its str()
    assert json.loads(path.read_text()) == {"x": 2, "when": str(tmp_path)}
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(KitError, match=r"cannot write .*file/x.json \(.*\); choose a writable path"):
        atomic_write_json(blocker / "x.json", {})


def test_check_writable_refuses_what_could_not_be_written_at_the_end(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    with pytest.raises(KitError, match=r"--json .*folder is a folder; give a file name such as .*folder/result.json"):
        check_writable(tmp_path / "folder", what="--json")
    with pytest.raises(KitError, match=r"--out .*file is a file, not a folder"):
        check_writable(tmp_path / "file", what="--out", kind="folder")
    with pytest.raises(KitError, match=r"cannot be created: .*file is a file, not a folder"):
        check_writable(tmp_path / "file" / "deeper" / "out.json", what="--json")
    check_writable(tmp_path / "new" / "deeper" / "out.json", what="--json")  # missing parents are fine
    check_writable(tmp_path / "folder", what="--out", kind="into")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]  # the probes left nothing behind


def test_atomic_dir_stamps_its_folder_and_replaces_only_the_same_kind(tmp_path):
    out = tmp_path / "report"
    with atomic_dir(out, kind="pilot report") as tmp:
        (tmp / "index.html").write_text("one")
    stamp = read_stamp(out)
    assert stamp["kind"] == "pilot report" and set(stamp["files"]) == {"index.html"}
    with pytest.raises(KitError, match="already exists; choose another --out or pass --overwrite"), atomic_dir(out):
        pass
    with pytest.raises(KitError, match="is a pilot report, not an exercises"), \
            atomic_dir(out, overwrite=True, kind="exercises"):
        pass
    with atomic_dir(out, overwrite=True, kind="pilot report") as tmp:
        (tmp / "other.html").write_text("two")
    assert sorted(p.name for p in out.iterdir()) == [STAMP, "other.html"]  # the old folder is gone, not merged
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no partial, replaced or lock file left


def test_check_replaceable_never_takes_a_folder_the_kit_did_not_write(tmp_path, monkeypatch):
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(KitError, match="is not a folder the kit wrote \\(a file or a link\\)"):
        check_replaceable(link)
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(KitError, match=f"is not a kit artifact \\(no {STAMP}\\)"):
        check_replaceable(mine)
    (mine / STAMP).write_text(json.dumps({"kind": "folder"}))  # stamped, but no file list
    with pytest.raises(KitError, match="does not list the files the kit wrote"):
        check_replaceable(mine)
    monkeypatch.setenv("KIT_CACHE", str(mine / "cache"))
    os.makedirs(mine / "cache")
    with pytest.raises(KitError, match=r"refusing to replace .*mine: it is or holds the kit cache"):
        check_replaceable(mine)
