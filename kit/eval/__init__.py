"""Evaluation: sets, scoring, timing, statistics, the harness and its record."""

__all__: list[str] = []
