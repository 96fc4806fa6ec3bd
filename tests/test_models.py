import json

import pytest

from kit.errors import KitError
from kit.models import BASELINE_FILE, load_model, prepare_baseline, resolve_path


def test_baseline_is_hashed_and_verified(smol):
    path = prepare_baseline("smollm2-135m")
    info = json.loads((path / BASELINE_FILE).read_text())
    assert info["weights_sha256"] == smol.sha256
    assert len(info["source"]["sha256"]) == 64
    assert smol.info()["dtype"] == "float32"
    assert smol.info()["parameters"] > 100_000_000
    assert smol.info()["baseline"] == {"ref": "smollm2-135m", "sha256": smol.sha256}


def test_tampered_baseline_is_refused(tmp_path, smol):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(smol.path, copy)
    meta = json.loads((copy / BASELINE_FILE).read_text())
    meta["weights_sha256"] = "0" * 64
    (copy / BASELINE_FILE).write_text(json.dumps(meta))
    with pytest.raises(KitError, match="does not match its recorded hash"):
        load_model(str(copy), device="cpu")


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(KitError, match="not found: not an alias"):
        resolve_path(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(KitError, match="no config.json"):
        resolve_path(str(tmp_path / "empty"))
