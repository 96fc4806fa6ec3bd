"""Which engine produced a record's numbers: the engine names and how a record states its engine.

Two engines run a model. ``reference`` is the dequantized path every record used before engines
existed (compressed-tensors weights expanded to floating point, bitsandbytes on its own kernels):
teaching, the debugger and the sanctioned baseline use it. ``packed`` runs a quantized artifact's
own integer codes through packed weight-only kernels, as the model would be served. A record
states its engine under ``model.engine``; a record written before the field existed was made on
the reference engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kit.errors import KitError

__all__ = ["DEFAULT_ENGINE", "ENGINES", "PILOT_ENGINES", "EngineInfo", "engine_of"]

#: Engine name → what it is, in words (CLI help, docs, reports).
ENGINES: dict[str, str] = {
    "reference": "dequantized weights in the model's float dtype (what teaching and the debugger use)",
    "packed": "the artifact's own integer codes on packed weight-only kernels (how it would be served)",
}
#: How a pilot chooses each candidate's engine (``kit pilot --engine``, :class:`kit.govern.pilot_plan.PilotOptions`).
PILOT_ENGINES: dict[str, str] = {
    "serving": "each candidate on the engine it would be served on (packed where its artifact allows, else reference)",
    "reference": "every candidate dequantized on the reference engine (teaching, debugging)",
}
#: The engine of a record that names none (every record written before engines existed).
DEFAULT_ENGINE = "reference"


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    """The engine a record's numbers came from: its name, the kernel library, the activation dtype."""

    name: str = DEFAULT_ENGINE
    backend: str | None = None  # e.g. "torch", "torchao", "bitsandbytes"
    activations: str | None = None  # e.g. "float32", "bfloat16"

    def __post_init__(self) -> None:
        """Refuse an engine name the kit does not know."""
        if self.name not in ENGINES:
            raise KitError(f"unknown engine '{self.name}'; use one of {', '.join(ENGINES)}")

    def to_dict(self) -> dict[str, Any]:
        """The engine as JSON data (what ``model.engine`` holds in a record)."""
        return dataclasses.asdict(self)

    def label(self) -> str:
        """A short human label, e.g. ``packed (torchao, bfloat16)``."""
        extra = ", ".join(x for x in (self.backend, self.activations) if x)
        return f"{self.name} ({extra})" if extra else self.name


def engine_of(model_info: Mapping[str, Any] | None) -> EngineInfo:
    """The engine a record's ``model`` section names; the reference engine when it names none.

    Args:
        model_info: a record's ``model`` section (or a verdict's candidate/baseline summary).
    """
    data = (model_info or {}).get("engine")
    if data is None:
        return EngineInfo()
    if isinstance(data, str):
        return EngineInfo(name=data)
    if not isinstance(data, Mapping):
        raise KitError(f"a record's model.engine must be a name or a mapping, got {type(data).__name__}; "
                       "re-evaluate with `kit eval`")
    return EngineInfo(name=str(data.get("name", DEFAULT_ENGINE)), backend=data.get("backend"),
                      activations=data.get("activations"))
