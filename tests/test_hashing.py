"""File hashing: one file, a folder's weights (one file → its own hash), a manifest; kit.io still exports them."""

import hashlib

import pytest

import kit.io
from kit.hashing import file_manifest, sha256_dir, sha256_file


def test_sha256_file_matches_hashlib(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * (3 << 20))  # more than one read chunk
    assert sha256_file(f) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()


def test_sha256_dir_is_the_file_hash_for_one_file_and_name_sensitive_for_several(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"w")
    assert sha256_dir(tmp_path) == sha256_file(tmp_path / "model.safetensors")
    (tmp_path / "model-2.safetensors").write_bytes(b"v")
    two = sha256_dir(tmp_path)
    (tmp_path / "model-2.safetensors").rename(tmp_path / "model-3.safetensors")
    assert sha256_dir(tmp_path) != two
    with pytest.raises(FileNotFoundError):
        sha256_dir(tmp_path, pattern="*.bin")


def test_manifest_skips_hidden_and_excluded_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.json", "sub/b.txt", ".hidden", "log.json"):
        (tmp_path / name).write_text(name)
    assert sorted(file_manifest(tmp_path, exclude=("log.json",))) == ["a.json", "sub/b.txt"]


def test_kit_io_reexports_the_same_functions():
    assert (kit.io.sha256_file, kit.io.sha256_dir, kit.io.file_manifest) == (sha256_file, sha256_dir, file_manifest)
