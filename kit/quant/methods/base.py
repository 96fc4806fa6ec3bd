"""The adapter interface: a :class:`Method` per backend and the :class:`Request` it runs on.

Kept apart from :mod:`kit.quant.methods` so the adapters (``bnb.py``, ``llmc.py``) import the
interface and the package imports the adapters, never the reverse.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kit.models import PLACED_ON_LOAD
from kit.quant.shapes import SchemeSettings

if TYPE_CHECKING:
    from kit.quant.calibration import Calibration

__all__ = ["Method", "Request"]


@dataclasses.dataclass(frozen=True)
class Request:
    """Everything an adapter needs for one run (already validated by :func:`kit.quant.quantize.quantize`)."""

    baseline: Path  # verified fp32 safetensors folder
    bits: int
    group_size: int | None
    calibration: Calibration | None  # None for data-free methods
    device: str
    progress: bool
    ignore: tuple[str, ...] = ()  # module names kept in full precision besides the method's own ``ignore``
    scheme: dict[str, Any] = dataclasses.field(default_factory=dict)  # overrides of the sanctioned scheme


class Method(abc.ABC):
    """One quantization method: what it supports, how it runs, how it saves."""

    name: ClassVar[str]
    summary: ClassVar[str]
    library: ClassVar[str]  # the package doing the work
    supported_bits: ClassVar[tuple[int, ...]]
    default_bits: ClassVar[int]
    calibrated: ClassVar[bool]  # needs calibration data
    grouped: ClassVar[bool]  # takes a user-chosen group size
    granularity: ClassVar[str]  # which weights share a scale, in words (docs table)
    ignore: ClassVar[tuple[str, ...]] = ("lm_head",)
    takes_overrides: ClassVar[bool] = False  # takes an ignore list and scheme overrides (``QuantSpec.ignore/scheme``)

    @property
    def placed_on_load(self) -> bool:
        """Its weights land on the device while loading (``device_map``), so the result is never moved after."""
        return self.library in PLACED_ON_LOAD

    @abc.abstractmethod
    def settings(self, *, bits: int, group_size: int | None, overrides: dict[str, Any] | None = None
                 ) -> SchemeSettings:
        """Scheme fields for the config log: symmetric, quant_type, format, scheme, ignore.

        Args:
            bits: weight bits.
            group_size: weights per scale (None where the method has no groups).
            overrides: scheme field → value (llm-compressor methods only; others refuse any).
        """

    @abc.abstractmethod
    def quantize(self, request: Request) -> Any:
        """Return the quantized ``PreTrainedModel`` (in memory, ready for the harness).

        Args:
            request: the validated run settings.
        """

    @abc.abstractmethod
    def save(self, model: Any, folder: Path) -> None:
        """Write the weights and config of ``model`` into ``folder`` in its runtime format.

        Args:
            model: the model :meth:`quantize` returned.
            folder: an empty temp folder (renamed into place by the caller on success).
        """

    def runtime_notes(self, model: Any) -> dict[str, Any]:
        """Facts read back from the quantized model for the log (e.g. the block size used).

        Args:
            model: the quantized model.
        """
        return {}
