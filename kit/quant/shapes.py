"""The quantization room's result shapes, declared: the configuration log and the comparison entries.

These are :class:`~typing.TypedDict` s: the JSON on disk and the dicts in memory are the same
plain dicts as before (old logs load unchanged); the classes name every key and its type, so
a reader — or a type checker — knows what ``kit-quantization.json`` and ``compare()`` hold.
No ``from __future__ import annotations`` here: ``NotRequired`` must be seen at run time.
"""

from typing import Any, NotRequired, TypedDict

__all__ = ["BaselineRef", "CompareEntry", "CompareRow", "QuantLog", "SchemeSettings"]


class SchemeSettings(TypedDict):
    """What an adapter states about its scheme (:meth:`kit.quant.methods.base.Method.settings`)."""

    symmetric: bool
    quant_type: str  # "int" (llm-compressor), "int8", "nf4", "fp4" (bitsandbytes)
    format: str  # how the weights are stored
    runtime: str  # what loads them
    scheme: dict[str, Any]  # the library's own description of the scheme (weights args, modifiers, config)
    ignore: list[str]  # the method's own full-precision modules (lm_head)
    calibration_batch_size: NotRequired[int | None]  # llm-compressor only
    torch_threads: NotRequired[int]  # llm-compressor only
    #: The method's own searches (llm-compressor): AWQ's scale grid and clipping grid with the samples
    #: they score (and, once run, what the clipping chose), AutoRound's steps, step size and batch; else None.
    tuning: NotRequired[dict[str, Any] | None]


class BaselineRef(TypedDict):
    """The fp32 baseline a log or record names: the reference given, where it lives, its weights hash."""

    ref: str
    path: str
    sha256: str


class QuantLog(SchemeSettings):
    """``kit-quantization.json`` (schema ``kit.quantization/1``), written by :func:`kit.quant.quantize.quantize`."""

    schema: str
    method: str
    summary: str
    library: str
    bits: int
    group_size: int | list[int] | None  # user group size; bitsandbytes' block size(s) read back; None for int8
    resolved_weights: Any  # what the library resolved the weight scheme to (llm-compressor), else None
    quantized_modules: int | None
    shims: list[str]  # compatibility patches applied around the library
    calibration: dict[str, Any] | None  # the chunks' record (set, hash, samples, seq_len, seed); None when data-free
    baseline: BaselineRef
    quantize_seconds: float
    peak_memory: dict[str, Any]
    device: str
    environment: dict[str, Any]
    created_at: str  # kit.clock.utc_now
    files: NotRequired[dict[str, Any]]  # every file but the log → size and hash (kit.model_files.manifest)
    weights_sha256: NotRequired[str | None]
    weight_bytes: NotRequired[int]  # as stored in memory (compressed in place)
    spec: NotRequired[dict[str, Any]]  # the QuantSpec as asked (automatic group size, ignore patterns): the recipe
    template_of: NotRequired[str]  # the registry entry whose recipe this replayed (`kit pilot --like`)


class CompareRow(TypedDict):
    """One flat row of a comparison: a method on a set, against the baseline (:func:`kit.quant.compare.compare_rows`)."""

    method: str
    set: str
    metric: str
    value: float
    delta: float
    delta_pct: float
    top1_agree: float | None
    stored_MiB: float | None
    stored_ratio: float | None
    runtime_ratio: float
    prefill_ms: float | None
    decode_ms_p50: float | None
    decode_tok_s: float | None


class CompareEntry(TypedDict):
    """One model of :func:`kit.quant.compare.compare`: the baseline (``method`` "baseline") or a method."""

    method: str
    path: str | None  # None when the artifacts went to a removed temp folder
    sha256: str | None
    bits: int | None
    group_size: int | list[int] | None
    calibration: str | None  # the calibration set's name
    quantize_seconds: float | None
    stored_weight_bytes: int | None
    records: list[dict[str, Any]]  # kit.eval/1 harness records, set order
    rows: NotRequired[list[CompareRow]]
