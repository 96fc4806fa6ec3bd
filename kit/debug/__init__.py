"""Regression debugging: per-module instruments, sensitivity, outliers, bisection to a fix."""

__all__: list[str] = []
