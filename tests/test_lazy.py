"""kit._lazy: a package's names load from their modules on first access, and only then."""

import sys
import types

import pytest

from kit._lazy import lazy_exports


def test_names_load_on_first_access_and_are_cached(monkeypatch):
    package = types.ModuleType("fakepkg")
    monkeypatch.setitem(sys.modules, "fakepkg", package)
    package.__all__, package.__getattr__, package.__dir__ = lazy_exports("fakepkg", {"json": ("dumps", "loads")})
    assert package.__all__ == ["dumps", "loads"]
    assert "dumps" not in vars(package)
    import json

    assert package.dumps is json.dumps and vars(package)["dumps"] is json.dumps  # cached after the first access
    assert "loads" in package.__dir__()
    with pytest.raises(AttributeError, match="module 'fakepkg' has no attribute 'nope'"):
        _ = package.nope


def test_a_name_from_two_modules_is_refused():
    with pytest.raises(ValueError, match="exported from two modules"):
        lazy_exports("fakepkg", {"json": ("dumps",), "pickle": ("dumps",)})
