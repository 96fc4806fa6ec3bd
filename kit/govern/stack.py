"""The stack fingerprint a validation ran on, and what changed between two of them.

Migration rule for stack fields: a field (or tracked package) that one of the two fingerprints
does not state — an entry recorded before the kit recorded it, or a current stack that cannot
know it (the engine) — is unknown, not a change; only two stated values that differ mark an
entry stale. (A package recorded as not installed is stated: ``None`` → a version is a change.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["current_stack", "stack_changes"]


def current_stack(*, device: str | None = None) -> dict[str, Any]:
    """The stack fingerprint (packages, device, GPU, CUDA, CPU capability) of this process; the engine is unknown.

    Args:
        device: the device validations run on; automatic when None.
    """
    from kit.environment import describe_environment, stack_fingerprint

    return stack_fingerprint(describe_environment(device=device))


def stack_changes(*, recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable differences between two stack fingerprints, e.g. ``torch 2.13.0 → 2.14.0``.

    Args:
        recorded: the fingerprint an entry was validated on.
        current: the fingerprint to compare with.
    """
    changes = []
    old, new = recorded.get("packages", {}), current.get("packages", {})
    for name in sorted(set(old) & set(new)):  # a package only one side tracked: unknown, not a change
        if old[name] != new[name]:
            changes.append(f"{name} {old[name] or 'absent'} → {new[name] or 'absent'}")
    for key in ("device", "gpu", "cuda_version"):
        if recorded.get(key) != current.get(key):
            changes.append(f"{key} {recorded.get(key)} → {current.get(key)}")
    for key in _LATER_FIELDS:  # recorded since engines existed; absent or None on either side: unknown
        before, after = recorded.get(key), current.get(key)
        if before is not None and after is not None and before != after:
            changes.append(f"{key} {_label(key, before)} → {_label(key, after)}")
    return changes


#: Stack fields added after entries existed: compared only when both fingerprints state them.
_LATER_FIELDS = ("cpu_capability", "engine")


def _label(key: str, value: Any) -> str:
    if key == "engine":
        from kit.engines import engine_of

        return engine_of({"engine": value}).label()
    return str(value)
