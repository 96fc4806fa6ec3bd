"""The quantization practice kit: baselines, harness, quantization, gate, registry.

What the notebooks use is importable from here (``from kit import load_model, evaluate,
quantize, QuantSpec, gate, run_pilot``); names load lazily, so ``import kit`` imports no
torch. The rooms: :mod:`kit.eval`, :mod:`kit.quant`, :mod:`kit.govern`, :mod:`kit.teach`,
:mod:`kit.cli` (and :mod:`kit.report`, :mod:`kit.debug`).
"""

from kit._lazy import lazy_exports

__version__ = "0.1.0"

_names, __getattr__, __dir__ = lazy_exports(__name__, {
    "kit.errors": ("KitError",),
    "kit.environment": ("check_setup", "describe_environment"),
    "kit.io": ("runs_dir",),
    "kit.models": ("ask", "load_model"),
    "kit.eval": ("EvalRecord", "Protocol", "bundled_sets", "evaluate", "format_table", "load_set", "summarize"),
    "kit.quant": ("CalibrationSpec", "METHOD_TABLE", "QuantSpec"),
    "kit.quant.quantize": ("quantize",),
    "kit.quant.compare": ("compare",),
    "kit.govern": ("Registry", "Verdict", "evaluate_sets", "get_policy", "load_policies", "parse_use_case",
                   "require_reason", "run_pilot"),
    "kit.govern.gate": ("gate",),
})
__all__ = sorted([*_names, "__version__"])
