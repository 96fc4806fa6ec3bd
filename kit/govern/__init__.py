"""Governance: tolerance policies, the validation gate, the registry, re-validation and the pilot."""

__all__: list[str] = []
