"""Governance: tolerance policies, the validation gate, the registry, re-validation and the pilot.

Main names load lazily from their modules. The function ``gate`` shares its module's name,
so import it from :mod:`kit` (``from kit import gate``) or from ``kit.govern.gate``.
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    ".gate": ("MetricResult", "Verdict"),
    ".policy": ("get_policy", "load_policies", "parse_use_case", "policy_path", "require_reason"),
    ".use_case": ("MetricLimit", "UseCasePolicy"),
    ".registry": ("Registry",),
    ".registry_rows": ("Entry", "Validation"),
    ".stack": ("current_stack", "stack_changes"),
    ".pilot": ("PilotOptions", "decision_table", "evaluate_sets", "run_pilot"),
    ".reuse": ("reusable_entry",),
})
