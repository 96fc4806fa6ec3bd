"""The curated public API: what `kit` and its rooms export, pinned; `import kit` stays cheap."""

import subprocess
import sys

import pytest

import kit

PUBLIC = [
    "CalibrationSpec", "EvalRecord", "KitError", "METHOD_TABLE", "Protocol", "QuantSpec", "Registry", "Verdict",
    "__version__", "ask", "bundled_sets", "check_setup", "compare", "describe_environment", "evaluate",
    "evaluate_sets", "format_table", "gate", "get_policy", "load_model", "load_policies", "load_set",
    "parse_use_case", "quantize", "require_reason", "run_pilot", "runs_dir", "summarize",
]

ROOMS = {
    "kit.debug": ["Diagnosis", "FIX_KINDS", "GateOracle", "INSTRUMENTS", "apply_fix", "base_artifact", "bisect_fix",
                  "build_candidate", "diagnose", "error_by_layer", "fix_command", "fix_kind", "fix_spec",
                  "fixed_candidate", "list_regressions", "load_candidate", "load_regression", "make_fix", "margins_in_mdc",
                  "outlier_histogram", "outlier_picker", "recipe", "sensitivity_bars"],
    "kit.eval": ["EvalRecord", "EvalSet", "METRICS", "Measurement", "MetricSpec", "PRIMARY", "Protocol", "as_record",
                 "bundled_sets", "evaluate", "format_table", "load_set", "summarize", "tokens_for"],
    "kit.quant": ["Calibration", "CalibrationSpec", "DEFAULT_CALIBRATION", "METHODS", "METHOD_NAMES", "METHOD_TABLE",
                  "MethodInfo", "QuantResult", "QuantSpec", "calibration_chunks", "compare_rows", "default_group_size",
                  "format_compare", "get_method", "method_bits"],
    "kit.govern": ["Entry", "MetricLimit", "MetricResult", "PilotOptions", "Registry", "UseCasePolicy", "Validation", "Verdict",
                   "current_stack", "decision_table", "evaluate_sets", "get_policy", "load_policies", "parse_use_case",
                   "policy_path", "require_reason", "reusable_entry", "run_pilot", "stack_changes"],
    "kit.report": ["build_summary", "prepare_adoption_dashboard", "prepare_pilot_report", "prepare_revalidation",
                   "render_dashboard", "render_headlines", "render_revalidation", "run_batch", "save_summary"],
    "kit.teach": ["Selection", "accuracy_by_category", "accuracy_vs_memory", "assess", "build_panel", "latency_bars",
                  "monthly_savings", "payback_months", "provenance", "published", "render_result", "run_selection",
                  "study_rows", "widgets_available"],
}


def test_top_level_api_is_pinned_and_sorted():
    assert kit.__all__ == PUBLIC == sorted(PUBLIC)


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_rooms_export_their_main_names(room):
    import importlib

    module = importlib.import_module(room)
    assert module.__all__ == ROOMS[room] == sorted(ROOMS[room])
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_every_public_name_resolves_to_its_definition():
    from kit.eval.harness import evaluate
    from kit.govern.gate import gate
    from kit.quant.compare import compare
    from kit.quant.quantize import quantize

    for name in PUBLIC:
        assert getattr(kit, name) is not None, name
    assert (kit.evaluate, kit.quantize, kit.compare, kit.gate) == (evaluate, quantize, compare, gate)
    assert callable(kit.quantize) and callable(kit.compare) and callable(kit.gate)  # functions, not their modules
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = kit.nope


def test_import_kit_is_cheap_and_lazy():
    code = ("import sys, kit, kit.eval, kit.quant, kit.govern, kit.teach, kit.debug, kit.report; "
            "from kit import QuantSpec, get_policy, Registry, format_table, METHOD_TABLE; "
            "heavy = [m for m in ('torch', 'transformers', 'matplotlib', 'ipywidgets') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
