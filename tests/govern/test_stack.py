"""Stack fingerprints: what changed between two, and the migration rule (a field one side does not state is unknown)."""

from helpers import STACK

from kit.govern.stack import current_stack, stack_changes

PACKED = {"name": "packed", "backend": "torchao", "activations": "bfloat16"}


def test_changed_packages_and_hardware_are_named_old_to_new():
    older = STACK | {"packages": STACK["packages"] | {"torch": "2.12.0+cpu"}}
    assert stack_changes(recorded=older, current=STACK) == ["torch 2.12.0+cpu → 2.13.0+cpu"]
    assert stack_changes(recorded=STACK, current=STACK | {"device": "cuda", "gpu": "H100"}) == [
        "device cpu → cuda", "gpu None → H100"]
    assert stack_changes(recorded=STACK, current=STACK) == []


def test_cpu_capability_and_engine_count_only_when_both_sides_state_them():
    old_entry = {k: v for k, v in STACK.items() if k not in ("cpu_capability", "engine")}  # before the fields
    avx2 = STACK | {"cpu_capability": "AVX2"}
    assert stack_changes(recorded=old_entry, current=avx2 | {"engine": PACKED}) == []
    assert stack_changes(recorded=avx2, current=STACK) == []  # the current stack may not know it either
    assert stack_changes(recorded=avx2, current=avx2 | {"cpu_capability": "AVX512"}) == ["cpu_capability AVX2 → AVX512"]
    assert stack_changes(recorded=avx2, current=avx2 | {"engine": PACKED}) == [
        "engine reference → packed (torchao, bfloat16)"]


def test_a_package_tracked_later_is_unknown_but_one_recorded_absent_is_a_change():
    newer = STACK | {"packages": STACK["packages"] | {"torchao": "0.18.0"}}
    assert stack_changes(recorded=STACK, current=newer) == []  # a package the kit began to track later
    assert stack_changes(recorded=newer | {"packages": newer["packages"] | {"torchao": None}}, current=newer) == [
        "torchao absent → 0.18.0"]  # recorded as not installed: stated, so a change


def test_the_current_stack_states_this_process_but_not_the_engine():
    now = current_stack(device="cpu")
    assert now["device"] == "cpu" and now["gpu"] is None and now.get("engine") is None
    import torch

    assert now["packages"]["torch"] == torch.__version__
    assert stack_changes(recorded=now, current=current_stack(device="cpu")) == []
