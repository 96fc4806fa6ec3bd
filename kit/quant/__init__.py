"""Quantization: the method table, one adapter per backend, calibration, quantize and compare."""

__all__: list[str] = []
