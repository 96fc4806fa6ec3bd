"""Quantization: the method table, one adapter per backend, calibration, quantize and compare.

Main names load lazily from their modules. The functions ``quantize`` and ``compare`` share
their modules' names, so import them from :mod:`kit` (``from kit import quantize``) or from
``kit.quant.quantize`` / ``kit.quant.compare``.
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    ".methods": ("METHODS", "METHOD_NAMES", "METHOD_TABLE", "MethodInfo", "method_bits"),
    ".spec": ("DEFAULT_CALIBRATION", "CalibrationSpec", "QuantSpec"),
    ".calibration": ("Calibration", "calibration_chunks"),
    ".layout": ("default_group_size",),
    ".quantize": ("QuantResult", "get_method"),
    ".compare": ("compare_rows", "format_compare"),
})
