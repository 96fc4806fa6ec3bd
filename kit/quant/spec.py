"""What to quantize with: :class:`CalibrationSpec` (which calibration data) and :class:`QuantSpec` (method, bits, groups).

The calibration defaults (set, samples, sequence length, seed) are stated here once; quantize,
compare, the pilot, the CLI flags and the widgets read them from :data:`DEFAULT_CALIBRATION`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from kit.errors import KitError
from kit.quant.methods import METHODS, MethodInfo

__all__ = ["DEFAULT_CALIBRATION", "CalibrationSpec", "QuantSpec"]


@dataclasses.dataclass(frozen=True)
class CalibrationSpec:
    """Which calibration chunks a calibrated method (GPTQ, AWQ, AutoRound) sees; data-free methods ignore it."""

    name: str = "stdlib-docs-calib"  # bundled calibration set or a .jsonl/.txt path
    samples: int = 64  # chunks
    seq_len: int = 256  # tokens per chunk
    seed: int = 0  # seeds the choice of chunks

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON data."""
        return dataclasses.asdict(self)

    @classmethod
    def build(cls, *, name: str | None = None, samples: int | None = None, seq_len: int | None = None,
              seed: int | None = None) -> CalibrationSpec:
        """A spec from loose values; each None takes the default above.

        Args:
            name: calibration set name or path.
            samples: chunks.
            seq_len: tokens per chunk.
            seed: seed for the choice of chunks.
        """
        given = {"name": name, "samples": samples, "seq_len": seq_len, "seed": seed}
        return cls(**{k: v for k, v in given.items() if v is not None})


#: The calibration everyone uses unless told otherwise.
DEFAULT_CALIBRATION = CalibrationSpec()


@dataclasses.dataclass(frozen=True)
class QuantSpec:
    """One quantization recipe: a method of the method table, its bits, group size and calibration."""

    method: str
    bits: int | None = None  # None → the method's default
    group_size: int | None = None  # None → the largest that divides every width (grouped methods)
    calibration: CalibrationSpec = DEFAULT_CALIBRATION
    ignore: tuple[str, ...] = ()  # modules kept in full precision (names, block prefixes, ``re:``), besides lm_head
    #: Overrides of the method's sanctioned scheme (``kit.quant.methods.llmc.SCHEMES``: symmetric,
    #: actorder, dampening_frac, n_grid, duo_scaling, search_samples, observer, clip, iters, lr,
    #: per_channel) as (field, value) pairs; logged as a deviation.
    scheme: tuple[tuple[str, Any], ...] = ()
    #: The registry entry whose validated recipe this replays (``kit pilot --like``); provenance, not recipe.
    template_of: str | None = None

    @property
    def info(self) -> MethodInfo:
        """The method's row of the method table; a one-line error naming the choices for an unknown name."""
        if self.method not in METHODS:
            raise KitError(f"unknown method '{self.method}'; choose one of: {', '.join(METHODS)}")
        return MethodInfo.of(METHODS[self.method])

    @property
    def resolved_bits(self) -> int:
        """``bits``, or the method's default when None."""
        return self.info.default_bits if self.bits is None else self.bits

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON data (calibration included)."""
        return {"method": self.method, "bits": self.bits, "group_size": self.group_size,
                "calibration": self.calibration.to_dict(), "ignore": list(self.ignore),
                "scheme": dict(self.scheme)} | ({"template_of": self.template_of} if self.template_of else {})

    @classmethod
    def build(cls, *, method: str, bits: int | None = None, group_size: int | None = None,
              calibration: CalibrationSpec | str | None = None, samples: int | None = None,
              seq_len: int | None = None, seed: int | None = None, ignore: Sequence[str] | None = None) -> QuantSpec:
        """A spec from loose keyword values (what the CLI flags and ``quantize(method=...)`` give).

        Args:
            method: a method of the method table.
            bits: weight bits (method default when None).
            group_size: weights per scale (automatic when None).
            calibration: a :class:`CalibrationSpec`, or a set name combined with the values below.
            samples: calibration chunks (default when None).
            seq_len: tokens per chunk (default when None).
            seed: seed for the choice of chunks (default when None).
            ignore: modules kept in full precision (none when None).
        """
        if isinstance(calibration, CalibrationSpec):
            if (samples, seq_len, seed) != (None, None, None):
                raise KitError("give samples/seq_len/seed inside the CalibrationSpec, not next to it")
            cal = calibration
        else:
            cal = CalibrationSpec.build(name=calibration, samples=samples, seq_len=seq_len, seed=seed)
        return cls(method=method, bits=bits, group_size=group_size, calibration=cal, ignore=tuple(ignore or ()))

    @classmethod
    def of(cls, spec: QuantSpec | str) -> QuantSpec:
        """A spec from a spec or a bare method name (defaults for everything else).

        Args:
            spec: a :class:`QuantSpec` or a method name.
        """
        return spec if isinstance(spec, QuantSpec) else cls(method=spec)
