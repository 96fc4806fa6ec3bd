"""Regression debugging: per-module instruments, sensitivity, outliers, bisection to a fix.

Main names load lazily from their modules (``from kit.debug import diagnose``); the
instruments stay in their modules (``kit.debug.compare``, ``kit.debug.sensitivity``, ...).
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    ".bisect": ("bisect_fix",),
    ".diagnose": ("INSTRUMENTS", "Diagnosis", "diagnose"),
    ".fix": ("FIX_KINDS", "apply_fix", "fix_command", "fix_kind", "fix_spec", "make_fix"),
    ".oracle": ("GateOracle", "margins_in_mdc"),
    ".plots": ("error_by_layer", "outlier_histogram", "outlier_picker", "sensitivity_bars"),
    ".regressions": ("base_artifact", "build_candidate", "fixed_candidate", "list_regressions", "load_candidate",
                     "load_regression", "recipe"),
})
