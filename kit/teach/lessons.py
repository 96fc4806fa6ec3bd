"""What the notebooks teach from the kit's own records: a real inconclusive gate line, measured cost ratios.

Nothing here is typed by hand: each value is read from a results file the kit wrote
(``benchmarks/pilot.json``, the registry), so a lesson stays true when the numbers change.
"""

from __future__ import annotations

import json
from typing import Any

from kit.errors import KitError

__all__ = ["describe_line", "inconclusive_line", "judge", "measured_outcome", "read_pilot"]


def read_pilot(path: str = "benchmarks/pilot.json") -> dict[str, Any]:
    """A pilot's result file (``kit pilot --out``): a path, or the kit's own bench pilot bundled with it.

    Args:
        path: the file (default: the benchmark pilot, a full-size run).
    """
    from pathlib import Path

    from kit._bundled import bundled_path

    found = Path(path).expanduser()
    found = found if found.exists() else bundled_path(*Path(path).parts)
    try:
        pilot = json.loads(found.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitError(f"cannot read the pilot {path} ({exc}); re-run `make bench` or give a `kit pilot` result") from None
    if not isinstance(pilot, dict) or "candidates" not in pilot or "table" not in pilot:
        raise KitError(f"{path} is not a pilot result (no candidates/table); give the JSON `kit pilot` writes")
    return pilot


def measured_outcome(*, pilot: dict[str, Any], method: str = "bnb-int8") -> dict[str, Any]:
    """A method's gate outcome and serving cost ratio as a pilot measured them, with the hardware.

    The cost ratio is per generated token at the measured batch-1 decode speed (quantized cost /
    baseline cost = baseline tokens/s / quantized tokens/s): what serving costs when it is
    decode-bound on that hardware.

    Args:
        pilot: :func:`read_pilot`'s result.
        method: the candidate.
    """
    cand = next((c for c in pilot["candidates"] if c["method"] == method), None)
    if cand is None:
        raise KitError(f"the pilot has no {method} candidate; it tried {', '.join(c['method'] for c in pilot['candidates'])}")
    speed = {r["method"]: r["decode_tok_s"] for r in pilot["table"]}
    env = cand["records"][0].get("environment", {})
    hw = env.get("hardware", {})
    return {"method": method, "use_case": pilot["use_case"], "gate": cand["verdict"]["decision"],
            "gate_passed": bool(cand["verdict"]["passed"]), "decode_tok_s": speed[method],
            "baseline_decode_tok_s": speed["baseline"], "cost_ratio": speed["baseline"] / speed[method],
            "hardware": f"{hw.get('cpu') or hw.get('gpu') or 'unknown'} ({hw.get('device', '?')}, "
                        f"{hw.get('torch_threads', '?')} threads)",
            "measured_at": str(cand["records"][0].get("created_at", ""))[:10]}


def inconclusive_line() -> dict[str, Any]:
    """The first ``inconclusive`` line of the benchmark pilot's verdicts, with the method it belongs to.

    Returns the verdict line (``metric``, ``status``, ``note``, ``samples``, ``needed``...) plus ``method``.
    """
    for cand in read_pilot()["candidates"]:
        for line in cand.get("verdict", {}).get("metrics", []):
            if line.get("status") == "inconclusive" and line.get("needed"):
                return {"method": cand.get("method"), **line}
    raise KitError("the benchmark pilot has no inconclusive line with a 'needed' count; re-run `make bench`")


def describe_line(line: dict[str, Any]) -> str:
    """A verdict line as the gate prints it, in two lines: the numbers, then the note.

    Args:
        line: one entry of ``Verdict.to_dict()["metrics"]`` (``method`` optional).
    """
    fmt = (lambda x: f"{x * 100:+.2f}%") if line["limit_kind"] == "relative" else (lambda x: f"{x:+.4f}")
    bound = line["limit"] if line["direction"] == "lower" else -line["limit"]
    head = (f"{line.get('method', 'candidate')} · {line['metric']} on {line['eval_set']}: {line['value']:.4f} vs "
            f"baseline {line['baseline']:.4f}, delta {fmt(line['delta'])}, limit {'≤' if bound > 0 else '≥'} "
            f"{fmt(bound)}, n {line['samples']} {line['sample_unit']} → {line['status']}")
    return f"{head}\n  note: {line['note']}"


def judge(scenarios: list[dict[str, Any]], *, cost_ratio: float, cost_per_1k_requests: float, engineering_cost: float,
          max_payback_months: float) -> list[dict[str, Any]]:
    """Savings, payback and the quantize/skip decision for each model at one cost ratio.

    Args:
        scenarios: rows with ``model``, ``requests_per_day``, ``criticality``, ``gate_passed`` (and any labels).
        cost_ratio: quantized / baseline serving cost.
        cost_per_1k_requests: the baseline's cost per 1,000 requests.
        engineering_cost: the one-off cost of quantizing, validating and maintaining.
        max_payback_months: longest acceptable payback.
    """
    from kit.govern.costs import assess, monthly_savings

    rows = []
    for s in scenarios:
        saved = monthly_savings(requests_per_day=s["requests_per_day"], cost_per_1k_requests=cost_per_1k_requests,
                                cost_ratio=cost_ratio)
        verdict = assess(requests_per_day=s["requests_per_day"], criticality=s["criticality"], savings_per_month=saved,
                         engineering_cost=engineering_cost, gate_passed=s["gate_passed"],
                         max_payback_months=max_payback_months)
        why = "serving costs more than it saves" if saved <= 0 else "; ".join(verdict["reasons"])
        if saved <= 0 and s["gate_passed"] is False:
            why = "no candidate passed the gate; " + why
        rows.append({**s, "cost_ratio": round(cost_ratio, 2), "savings_per_month": round(saved, 2),
                     "payback_months": round(verdict["payback_months"], 1), "decision": verdict["decision"], "why": why})
    return rows
