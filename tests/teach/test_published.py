"""Published benchmark figures are read from the results file, with clean errors when it is missing or partial."""

import json

import pytest

import kit._bundled
from kit.errors import KitError
from kit.teach.published import provenance, published, study_rows


@pytest.fixture
def results(tmp_path, monkeypatch):
    (tmp_path / "benchmarks").mkdir()
    monkeypatch.setattr(kit._bundled, "bundled_path", lambda *parts: tmp_path.joinpath(*parts))
    return tmp_path / "benchmarks" / "results.json"


def test_reads_nested_values_and_study_rows(results):
    rows = [{"key": "rtn g64 sym", "method": "rtn", "group_size": 64, "calibration": None, "quantize_s": 1.0,
             "ppl": 16.0, "recovery": 0.0, "mc_acc": 0.6},
            {"key": "gptq g64 sym cal=x:64x256", "method": "gptq", "group_size": 64,
             "calibration": {"samples": 64, "seq_len": 256}, "quantize_s": 60.0, "ppl": 13.0, "recovery": 0.7,
             "mc_acc": 0.65}]
    results.write_text(json.dumps({"schema": "kit.bench/1", "study": {
        "rows": rows, "date": "2026-11-29T15:00:00Z", "commit": "abcdef1234", "machine": "vm", "command": "python s"}}))
    assert published("study", "rows")[1]["ppl"] == 13.0
    gptq = study_rows(method="gptq")
    assert gptq == [{"configuration": "gptq g64 sym cal=x:64x256", "calibration_tokens": 16384, "quantize_s": 60.0,
                     "ppl": 13.0, "recovery": 0.7, "mc_acc": 0.65}]
    assert study_rows(method="rtn")[0]["calibration_tokens"] is None
    assert "2026-11-29 at commit abcdef1" in provenance("study")


def test_missing_file_or_key_is_a_one_line_error_naming_the_script(results):
    with pytest.raises(KitError, match="make bench"):
        published("study")
    results.write_text(json.dumps({"schema": "kit.bench/1"}))
    with pytest.raises(KitError, match="no 'study'.*benchmarks/study.py"):
        published("study", "rows")
    results.write_text("{not json")
    with pytest.raises(KitError, match="not valid JSON"):
        published()
