"""A logged calibration set is found again after the checkout that made the artifact is gone."""

from __future__ import annotations

import pytest

from kit.errors import KitError
from kit.quant.calibration import recorded_source


def test_recorded_file_that_exists_is_used(tmp_path):
    own = tmp_path / "mine.jsonl"
    own.write_text('{"text": "x"}\n')
    assert recorded_source({"name": "mine", "path": str(own)}) == str(own)


def test_bundled_set_from_another_checkout_falls_back_to_its_name(tmp_path):
    gone = tmp_path / "deleted-worktree" / "kit/_bundled/data/calibration/numbers-calib.jsonl"
    assert recorded_source({"name": "numbers-calib", "path": str(gone)}) == "numbers-calib"


def test_own_file_that_is_gone_is_a_one_line_error_naming_the_fix(tmp_path):
    with pytest.raises(KitError, match="which is gone; put the file back"):
        recorded_source({"name": "mine", "path": str(tmp_path / "mine.jsonl")})
