"""benchmarks/plants.py: a plant's clearest miss in MDCs, the section's near-limit footer, and the results file keeping it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _line(metric, margin_mdc, *, kind="absolute", delta=-0.25):
    return {"metric": metric, "eval_set": "stdlib-docs", "status": "fail" if (margin_mdc or 0) < 0 else "pass",
            "delta": delta, "limit": 0.22, "limit_kind": kind, "interval": None, "mdc": 0.02, "margin_mdc": margin_mdc,
            "samples": 2047}


def _row(name, margins):
    gate = {"decision": "fail" if min(margins) < 0 else "pass", "lines": [_line(f"m{i}", m) for i, m in enumerate(margins)]}
    return {"name": name, "use_case": "code-completion", "method": "autoround", "cause": "calibration",
            "fix": {"samples": 64}, "rehearsal_tokens": 2048, "measured": {"date": "2026-12-07", "commit": "abcdef0"},
            "gates": [{"size": "2048 tokens", "plant": gate, "fix": {"decision": "pass", "lines": [_line("m0", 3.0)]}}]}


def test_the_clearest_miss_is_the_largest_distance_beyond_a_limit():
    plants = _load("plants")
    assert plants.clearest_miss(_row("a", [-3.35, -2.31, 1.1])["gates"][0]["plant"]) == 3.35
    no_mdc = {"decision": "pass", "lines": [_line("m0", 0.5), _line("m1", None)]}
    assert plants.clearest_miss(no_mdc) is None


def test_the_section_names_every_plant_short_of_two_mdcs():
    plants = _load("plants")
    res = {"mode": "full", "date": "2026-12-07", "commit": "abcdef0",
           "rows": [_row("wide-miss", [-3.35, -2.31]), _row("near", [-0.05, 1.2]), _row("passes", [0.3, 2.0])]}
    text = "\n".join(plants.section_md(res, ["- machine: test"]))
    footer = text.splitlines()[-1]
    assert "near (2048 tokens: 0.05)" in footer and "passes (no line beyond a limit)" in footer
    assert "wide-miss" not in footer
    assert "**fail** · m0 -0.250 (-3.35)" in text


def test_the_benchmark_figures_never_drop_a_part_another_script_wrote(tmp_path):
    results = _load("results_file")
    part = {"machine": "m", "date": "d", "commit": "c", "command": "x", "load_start": [0.1], "load_end": [0.1],
            "cores": 2, "mode": "full", "rows": [_row("clear", [-3.0])]}
    (tmp_path / "results.json").write_text(json.dumps({"schema": results.SCHEMA, "plants": part,
                                                       "source_grid": {"kept": True}}))
    written = {}
    results._write = lambda out, data: written.update(data)  # the merge only, not the Markdown of a partial file
    results.write_bench(tmp_path, {"throughput": {}})
    assert {"plants", "source_grid", "throughput"} <= set(written)
