"""Model folders: the manifest leaves the kit's logs out, the weights hash matches sha256_dir, damaged logs named."""

import json

import pytest

from kit.errors import KitError
from kit.hashing import sha256_dir
from kit.model_files import BASELINE_FILE, QUANT_FILE, manifest, read_log, weights_sha256


def test_manifest_and_weights_hash(tmp_path):
    (tmp_path / "a.safetensors").write_bytes(b"a")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / BASELINE_FILE).write_text("{}")
    files = manifest(tmp_path)
    assert sorted(files) == ["a.safetensors", "config.json"]
    assert weights_sha256(files) == sha256_dir(tmp_path)
    (tmp_path / "b.safetensors").write_bytes(b"b")
    assert weights_sha256(manifest(tmp_path)) == sha256_dir(tmp_path)
    assert weights_sha256({"config.json": "x"}) is None


def test_read_log_is_none_when_absent_and_names_what_is_damaged(tmp_path):
    fix = "rebuild it"
    assert read_log(tmp_path / QUANT_FILE, fix=fix) is None
    log = tmp_path / QUANT_FILE
    damaged = [("{", "not valid JSON"), ("[]", "not a kit log"), (json.dumps({"files": {"a": 1}}), "'files'"),
               (json.dumps({"weights_sha256": 3}), "weights_sha256"), (json.dumps({"method": "rtn"}), "baseline.ref")]
    for content, message in damaged:
        log.write_text(content)
        with pytest.raises(KitError, match=message) as err:
            read_log(log, fix=fix)
        assert str(err.value).endswith(fix)
    log.write_text(json.dumps({"method": "rtn", "baseline": {"ref": "smollm2-135m"}}))
    assert read_log(log, fix=fix)["method"] == "rtn"
