"""Flat summaries of harness records and plain-text tables for terminals and logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.eval.record import EvalRecord, as_record

__all__ = ["format_table", "summarize"]

_MIB = 1024 * 1024


def _r(value: Any, digits: int) -> Any:
    return round(value, digits) if isinstance(value, (int, float)) and value is not None else value


def summarize(record: EvalRecord | dict[str, Any]) -> dict[str, Any]:
    """One flat row for a record: model, set, primary metric, agreement, latency, memory, throughput.

    Args:
        record: a harness record (``kit.eval/1``), as :class:`~kit.eval.record.EvalRecord` or JSON data.
    """
    rec = as_record(record)
    primary = rec.primary_metric()
    agr, lat, thr, mem = rec.agreement or {}, rec.latency or {}, rec.throughput or {}, rec.memory
    return {
        "model": rec.model["ref"],
        "method": rec.model.get("method", "none"),
        "set": rec.set_name,
        "metric": primary.label,
        "value": _r(primary.value, 3 if primary.metric == "perplexity" else 4),
        "top1_agree": _r(agr.get("top1"), 4),
        "kl": _r(agr.get("kl_mean"), 4),
        "weights_MiB": _r(mem["weight_bytes"] / _MIB, 1),
        "peak_rss_MiB": _r(mem["peak_rss_bytes"] / _MIB, 0),
        "prefill_ms": _r(lat.get("prefill_ms"), 1),
        "decode_ms_p50": _r(lat.get("decode_ms_p50"), 1),
        "decode_tok_s": _r(thr.get("decode_tokens_per_s"), 1),
    }


def format_table(rows: Sequence[dict[str, Any]], *, columns: Sequence[str] | None = None) -> str:
    """Align dict rows into a text table (missing values shown as ``-``).

    Args:
        rows: dicts with the same keys.
        columns: which keys to show, in order; all keys of the first row when None.
    """
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join([line, rule, *body])
