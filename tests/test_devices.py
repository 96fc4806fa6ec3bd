"""Devices: a bad or unusable device is refused in one line naming the fix; None picks the visible one."""

import pytest

from kit.devices import check_device, default_device
from kit.errors import KitError


def test_none_picks_the_default_and_cpu_is_always_usable():
    assert check_device(None) == default_device() in ("cpu", "cuda")
    assert check_device("cpu") == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "cuda:", "cuda:x", "CPU", "mps", 0])
def test_unknown_names_are_refused(bad):
    with pytest.raises(KitError, match=r"unknown device .*; use --device cpu, cuda or cuda:N"):
        check_device(bad)


def test_cuda_is_checked_against_the_visible_gpus(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(KitError, match="no CUDA GPU is visible; use --device cpu"):
        check_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert check_device("cuda:1") == "cuda:1"
    with pytest.raises(KitError, match=r"only 2 GPU\(s\) are visible; use cuda:0..cuda:1"):
        check_device("cuda:2")
