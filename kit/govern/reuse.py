"""Reuse before quantizing: find a registered model that already passed this use case on this stack."""

from __future__ import annotations

from typing import Any

from kit.govern.registry import Entry, Registry, current_stack, stack_changes

__all__ = ["reusable_entry"]


def reusable_entry(registry: Registry, *, model: str, method: str, use_case: str,
                   stack: dict[str, Any] | None = None) -> Entry | None:
    """The newest entry of ``model`` quantized with ``method`` whose latest gate for ``use_case`` passed on this stack.

    An entry validated on another stack is not reusable until re-validated (``kit revalidate``):
    its pass says nothing about the libraries installed now.

    Args:
        registry: an open registry.
        model: the baseline (alias, folder or sha256) the entries were quantized from.
        method: the quantization method.
        use_case: the policy's use case.
        stack: the current stack fingerprint (default: measured now).
    """
    stack = stack if stack is not None else current_stack()
    latest = registry.latest_validations()
    candidates = [e for e in registry.find(model) if e.method == method and e.use_case == use_case]
    for entry in sorted(candidates, key=lambda e: e.created_at, reverse=True):
        last = latest.get(entry.id)
        if last is not None and last.passed and not stack_changes(recorded=last.stack, current=stack):
            return entry
    return None
