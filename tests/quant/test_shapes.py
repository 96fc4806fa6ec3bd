"""kit.quant.shapes: the declared shapes name exactly the keys the code writes (log on disk, compare rows)."""

import json

from helpers import synthetic_record

from kit.models import QUANT_FILE
from kit.quant.compare import compare_rows
from kit.quant.methods import METHODS
from kit.quant.quantize import quantize
from kit.quant.shapes import CompareEntry, CompareRow, QuantLog, SchemeSettings

SMALL = {"samples": 4, "seq_len": 64, "device": "cpu", "progress": False}


def _keys(shape):
    return shape.__required_keys__ | shape.__optional_keys__


def test_every_adapter_states_the_scheme_settings():
    for name, method in METHODS.items():
        settings = method.settings(bits=method.default_bits, group_size=64 if method.grouped else None)
        assert SchemeSettings.__required_keys__ <= set(settings) <= _keys(SchemeSettings), name


def test_the_log_on_disk_has_the_declared_keys_in_the_old_order(tiny_baseline, tmp_path):
    q = quantize(model=str(tiny_baseline), method="rtn", out=tmp_path / "rtn", **SMALL)
    on_disk = json.loads((q.path / QUANT_FILE).read_text())
    assert on_disk == q.config and set(on_disk) == _keys(QuantLog) - {"template_of"}  # that one: replays only
    assert list(on_disk)[:5] == ["schema", "method", "summary", "library", "bits"]  # the log reads as it always did


def test_compare_rows_have_the_declared_keys():
    def entry(method, records, stored):
        return CompareEntry(method=method, path=None, sha256=None, bits=None, group_size=None, calibration=None,
                            quantize_seconds=None, stored_weight_bytes=stored, records=records)

    for r in (base := [synthetic_record(), synthetic_record(kind="multiple_choice", correct=[1, 0, 1])]):
        r["memory"] = {"weight_bytes": 400}
    cand = [dict(r, memory={"weight_bytes": 100}) for r in base]
    rows = compare_rows(entry("rtn", cand, 100), entry("baseline", base, 400))
    assert [set(row) for row in rows] == [_keys(CompareRow)] * 2
    assert rows[0]["stored_ratio"] == rows[0]["runtime_ratio"] == 0.25
