"""The quantization practice kit: baselines, harness, quantization, gate, registry."""

__version__ = "0.1.0"

__all__ = ["__version__"]
