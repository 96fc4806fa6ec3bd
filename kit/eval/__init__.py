"""Evaluation: sets, scoring, timing, statistics, the harness and its record.

Main names load lazily from their modules (``from kit.eval import evaluate, Protocol``).
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    ".harness": ("Protocol", "evaluate", "tokens_for"),
    ".record": ("METRICS", "PRIMARY", "EvalRecord", "Measurement", "MetricSpec", "as_record"),
    ".sets": ("EvalSet", "bundled_sets", "load_set"),
    ".tables": ("format_table", "summarize"),
})
