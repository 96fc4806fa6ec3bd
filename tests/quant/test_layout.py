"""The model's layout against a request: ignore-list patterns, group sizes that divide every width, architectures."""

import pytest
import torch

from kit.errors import KitError
from kit.models import DEFAULT_MODEL
from kit.quant.layout import check_architecture, default_group_size, ignored_linears, module_matches
from kit.quant.methods import METHODS


class _Block(torch.nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.q_proj = torch.nn.Linear(width, width)
        self.down_proj = torch.nn.Linear(3 * width, width)


class _Tiny(torch.nn.Module):
    """Two blocks of widths 96 and 288 (gcd 96), and an lm_head on width 96."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList([_Block(96), _Block(96)])
        self.lm_head = torch.nn.Linear(96, 10)


def test_module_matches_patterns():
    assert module_matches("model.layers.4.mlp.down_proj", ["model.layers.4"])
    assert not module_matches("model.layers.40.mlp.down_proj", ["model.layers.4"])
    assert module_matches("lm_head", ["lm_head"])
    assert module_matches("model.layers.3.self_attn.q_proj", ["re:.*self_attn.*"])


def test_ignore_patterns_expand_to_linears_and_one_naming_none_is_refused():
    tiny = _Tiny()
    assert ignored_linears(tiny, ["layers.1"]) == ["layers.1.q_proj", "layers.1.down_proj"]
    assert ignored_linears(tiny, ["down_proj", "lm_head"]) == ["layers.0.down_proj", "layers.1.down_proj", "lm_head"]
    with pytest.raises(KitError, match=r"--ignore entry 'layers.7' names no Linear module; names look like layers.0.q_proj"):
        ignored_linears(tiny, ["layers.7"])


def test_group_sizes_divide_every_quantized_width():
    tiny = _Tiny()
    assert default_group_size(tiny) == 32  # 96 = 3 x 32: 128 and 64 do not divide it
    assert default_group_size(tiny, 16) == 16
    with pytest.raises(KitError, match=r"group size 64 does not divide the input width 96 of layers.0.q_proj; "
                                       r"use --group-size 16, 32"):
        default_group_size(tiny, 64)
    with pytest.raises(KitError, match="group size 0 does not divide"):
        default_group_size(tiny, 0)


def test_the_default_models_group_size_fits_its_widths():
    assert default_group_size(DEFAULT_MODEL) == 64  # widths 576 and 1536
    assert default_group_size(DEFAULT_MODEL, 32) == 32
    with pytest.raises(KitError, match=r"does not divide the input width 576.*--group-size 16, 32, 64") as err:
        default_group_size(DEFAULT_MODEL, 128)
    assert "\n" not in str(err.value)


def test_architecture_check_passes_llama_for_every_method():
    from kit.models import resolve_path

    for method in METHODS.values():
        assert check_architecture(method=method, baseline=resolve_path(DEFAULT_MODEL)) is None
