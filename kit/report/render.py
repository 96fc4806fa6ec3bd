"""The pilot report's sections as HTML fragments (decision banner, before/after tables, savings, appendix).

The notebook displays these fragments; the exported ``report.html`` is the executed notebook
without code. Tables come from :mod:`kit.report.html`, so widgets and reports look the same.
"""

from __future__ import annotations

import html
import json
from typing import Any

from kit.palette import MUTED
from kit.report.html import render_sentence, render_table

__all__ = ["appendix", "decision_banner", "efficiency_table", "hardware_footnote", "metrics_table", "savings_section",
           "serving_section"]

_MIB = 2**20


def _pct(x: float | None) -> str | None:
    return None if x is None else f"{x:.1f} %"


def _delta(x: float, row: dict[str, Any]) -> str:
    return f"{x * 100:+.2f} %" if row["change_kind"] == "relative" else f"{x:+.4f}"


def _change(row: dict[str, Any]) -> str:
    return _delta(row["change"], row)


def _margin(row: dict[str, Any]) -> str:
    return _delta(row["margin"], row)


def decision_banner(summary: dict[str, Any]) -> str:
    """The decision first: the recommended method or "keep the baseline", and one sentence why.

    Args:
        summary: the report summary.
    """
    d = summary["decision"]
    head = f'<div style="font: 600 22px system-ui, sans-serif; margin: 4px 0;">{html.escape(d["headline"])}</div>'
    both = render_sentence(d["serving"], status=d["status"]) if d.get("serving") else ""  # accuracy and cost together
    followed = summary.get("template_of")
    template = (f'<p style="font: 13px system-ui, sans-serif;">This pilot followed the validated pilot of entry '
                f'{html.escape(followed)} (<code>kit pilot --like {html.escape(followed)}</code>).</p>'
                if followed else "")
    return head + render_sentence(d["why"], status=d["status"]) + both + template


def metrics_table(summary: dict[str, Any]) -> str:
    """Before/after per gated metric: baseline, value, change, recovery, gate status, margin, p-value and interval.

    Args:
        summary: the report summary.
    """
    rows = [{"method": r["method"], "metric": r["metric"], "set": r["set"], "baseline": r["baseline"],
             "value": r["value"], "change": _change(r), "recovery": _pct(r["recovery_pct"]), "status": r["status"],
             "margin": _margin(r), "n": r["samples"],
             "p_value": None if r["p_value"] is None else f"{r['p_value']:.3g}",
             "interval": None if not r["interval"] else "[" + ", ".join(_delta(x, r) for x in r["interval"]) + "]"}
            for r in summary["metrics"]]
    return render_table(rows, labels={"interval": "bounds of change", "p_value": "p (any change)"},
                        caption="Quality: each gated metric, before → after")


def efficiency_table(summary: dict[str, Any]) -> str:
    """Size, latency, throughput and time to quantize for the baseline and each method.

    Args:
        summary: the report summary.
    """
    def r1(x: float | None) -> float | None:
        return None if x is None else round(x, 1)

    rows = [{"method": r["method"], "bits": r["bits"], "stored_MiB": r1(r["stored_bytes"] / _MIB),
             "in_memory_MiB": r1(r["memory_bytes"] / _MIB), "p50_ms/token": r1(r["decode_ms_p50"]),
             "p95_ms/token": r1(r["decode_ms_p95"]), "tokens/s": r1(r["decode_tokens_per_s"]),
             "time_to_quantize_s": r1(r["quantize_seconds"])} for r in summary["efficiency"]]
    return render_table(rows, caption="Efficiency: size, speed and the time it took") + hardware_footnote(summary)


def hardware_footnote(summary: dict[str, Any]) -> str:
    """Where the speed was measured (device, CPU/GPU, threads).

    Args:
        summary: the report summary.
    """
    hw = summary["hardware"]
    what = hw["gpu"] or hw["cpu"] or "unknown"
    text = (f"Measured on {hw['label'] or hw['device']}: {hw['device']} ({what}"
            + (f", {hw['torch_threads']} threads" if hw.get("torch_threads") else "")
            + "); batch 1, greedy decoding. Speed on other hardware differs: re-run the pilot there.")
    return f'<p style="font: 12px system-ui, sans-serif; color: {MUTED};">{html.escape(text)}</p>'


def savings_section(summary: dict[str, Any]) -> str:
    """The cost model's result per method, with every assumption beside it.

    Args:
        summary: the report summary.
    """
    s = summary["savings"]
    rows = []
    for method, m in s["by_method"].items():
        b, c = m["baseline"], m["candidate"]
        rows.append({"method": method, "basis": m["basis"],
                     "accelerators_per_replica": f"{b['accelerators_per_replica']} → {c['accelerators_per_replica']}",
                     "serving_hours_per_day": None if c["serving_hours_per_day"] is None else
                     f"{b['serving_hours_per_day']:,.1f} → {c['serving_hours_per_day']:,.1f}",
                     "USD_per_1M_tokens": None if c["usd_per_1M_tokens"] is None else
                     f"{b['usd_per_1M_tokens']:.3f} → {c['usd_per_1M_tokens']:.3f}",
                     "cost_ratio": None if m["cost_ratio"] is None else round(m["cost_ratio"], 3),
                     "USD_per_month": None if m["usd_per_month"] is None else f"{m['usd_per_month']:,.0f}",
                     "result": m["note"]})
    items = "".join(f"<li>{html.escape(line)}</li>" for line in s["assumption_lines"])
    return (render_table(rows, caption="Savings from the measured numbers (negative = costs more)")
            + f'<div style="font: 13px system-ui, sans-serif;"><b>Assumptions</b><ul>{items}</ul></div>')


def _ms(value: float | None, interval: list[float] | None) -> str | None:
    if value is None:
        return None
    return f"{value:.1f}" + (f" [{interval[0]:.1f}–{interval[1]:.1f}]" if interval else "")


def _usd(x: float | None, digits: int = 3) -> str | None:
    return None if x is None else f"{x:,.{digits}f}"


def serving_section(summary: dict[str, Any]) -> str:
    """Per method, engine and hardware: latency with its interval over repeats, tokens/s, memory, cost per 1M tokens.

    Args:
        summary: the report summary (its ``serving`` section; absent in reports built before it).
    """
    s = summary.get("serving")
    if not s:
        return render_sentence("No serving-cost section: this summary was built before it existed; rebuild the report.")
    rows = [{"method": r["method"], "engine": r["engine"], "hardware": r["hardware"], "source": r["source"],
             "decode_ms/token [repeats]": _ms(r["decode_ms"], r["decode_ms_interval"]),
             "prefill_ms [repeats]": _ms(r["prefill_ms"], r["prefill_ms_interval"]),
             "tokens/s": None if r["decode_tokens_per_s"] is None else round(r["decode_tokens_per_s"], 1),
             "weights_MiB": None if r["weights_MiB"] is None else round(r["weights_MiB"], 1),
             "peak_RSS_MiB": None if r["peak_rss_MiB"] is None else round(r["peak_rss_MiB"], 1),
             "USD_per_1M_tokens": _usd(r["usd_per_1M_tokens"]), "USD_per_month": _usd(r["usd_per_month"], 0)}
            for r in s["rows"]]
    notes = sorted({r["interval_note"] for r in s["rows"] if r.get("interval_note")})
    out = render_table(rows, caption="Serving: speed, memory and cost per method, engine and hardware "
                                     "(intervals: min–max over timed repeats)")
    for t in s["tables"]:
        if t.get("versus") is None:
            out += render_sentence(f"{t['hardware']}: {t['note']}")
            continue
        table = [{"method": r["name"], "engine": r["engine"], "tokens/s": round(r["decode_tokens_per_s"], 1),
                  "USD_per_1M_tokens": _usd(r["usd_per_1M_tokens"]), "USD_per_month": _usd(r["usd_per_month"], 0),
                  "cost_change": None if r["cost_change_pct"] is None else f"{r['cost_change_pct']:+.1f} %",
                  "result": r["note"]} for r in t["rows"]]
        out += render_table(table, caption=f"Against {t['versus']} on {t['hardware']}: "
                                           f"{_usd(t['baseline_usd_per_1M_tokens'])} USD per 1M tokens")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in [*s["assumptions"], *notes])
    return out + f'<div style="font: 13px system-ui, sans-serif;"><b>Cost assumptions</b><ul>{items}</ul></div>'


def appendix(summary: dict[str, Any]) -> str:
    """Provenance: parameters, entry ids, baseline hash, stack versions, git commit, configuration logs.

    Args:
        summary: the report summary.
    """
    p = summary["provenance"]
    stack = p.get("pilot_stack") or {}
    facts = [{"item": "registry entries", "value": ", ".join(p["entries"])},
             {"item": "baseline", "value": f"{p['baseline']['ref']} sha256 {p['baseline']['sha256']}"},
             {"item": "git commit (pilot)", "value": p.get("pilot_git_commit")},
             {"item": "git commit (report)", "value": p.get("git_commit")},
             {"item": "registry", "value": p.get("registry")},
             {"item": "evaluation protocol", "value": json.dumps(p.get("protocol"), sort_keys=True)},
             {"item": "device", "value": f"{stack.get('device')} {stack.get('gpu') or ''}".strip()}]
    facts += [{"item": name, "value": version} for name, version in sorted((stack.get("packages") or {}).items())]
    params = [{"parameter": k, "value": json.dumps(v)} for k, v in p["parameters"].items()]
    logs = "".join(
        f'<details><summary>{html.escape(method)} configuration log</summary><pre style="font-size: 11px; '
        f'white-space: pre-wrap;">{html.escape(json.dumps(log, indent=1, sort_keys=True, default=str))}</pre></details>'
        for method, log in p["config_logs"].items())
    return (render_table(facts, caption="Provenance") + render_table(params, caption="Parameters (secrets removed)")
            + logs)
