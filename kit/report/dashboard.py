"""What notebook 07 calls: import the inventory and incident log, compute the adoption metrics, plot, render."""

from __future__ import annotations

import datetime
import html
from pathlib import Path
from typing import Any

from kit.clock import utc_today
from kit.palette import FAIL, LIGHT_GREY, PASS, RED
from kit.report.adoption import collect
from kit.report.figures import _plt, _save
from kit.report.html import render_sentence, render_table
from kit.report.params import ADOPTION, check_parameters

__all__ = ["ADOPTION_FIGURES", "prepare_adoption_dashboard", "render_dashboard", "render_headlines"]


def _date(iso: str) -> datetime.date:
    return datetime.date.fromisoformat(iso[:10])


def _coverage_plot(d: dict[str, Any], path: Path) -> Path:
    plt = _plt()
    rows = d["coverage"]["rows"]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(3, len(rows)) + 0.8))
    ax.barh([r["model"] for r in rows][::-1], [r["requests_per_day"] for r in rows][::-1],
            color=[PASS if r["covered"] else LIGHT_GREY for r in rows][::-1])
    ax.set_xlabel("requests/day (green: served by a validated, promoted quantized model)", fontsize=8)
    ax.set_title(f"coverage: {d['coverage']['share']:.1%} of volume", fontsize=9)
    ax.tick_params(labelsize=7)
    return _save(fig, path)


def _activity_plot(d: dict[str, Any], path: Path) -> Path:
    plt = _plt()
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(11, 2.8))
    months = d["incidents"]["by_month"]
    x = range(len(months))
    a1.bar(x, [m["gate"] for m in months], label="caught at gate", color=PASS)
    a1.bar(x, [m["production"] for m in months], bottom=[m["gate"] for m in months], label="reached production",
           color=RED)
    a1.set_xticks(list(x), [m["month"] for m in months], fontsize=7, rotation=30)
    a1.set_title("regression incidents per month", fontsize=9)
    a1.legend(fontsize=7)
    ttq = d["time_to_quantize"]["rows"]
    a2.plot([_date(r["promoted"]) for r in ttq], [r["hours"] / 24 for r in ttq], "o-")
    if len(ttq) == 1:  # one point: a week around it, not matplotlib's default years
        a2.set_xlim(_date(ttq[0]["promoted"]) - datetime.timedelta(days=3),
                    _date(ttq[0]["promoted"]) + datetime.timedelta(days=3))
    a2.set_title("time to quantize (days, first pilot → promotion)", fontsize=9)
    if not ttq:
        a2.text(0.5, 0.5, "no promotion yet", ha="center", transform=a2.transAxes, color=FAIL)
        a2.set_xticks([]), a2.set_yticks([])
    series = d["savings"]["series"]
    a3.plot([_date(s["date"]) for s in series], [s["cumulative_usd"] for s in series], color=PASS)
    a3.set_title("cumulative savings (USD, measured cost model)", fontsize=9)
    if not series:
        a3.text(0.5, 0.5, "no promoted model with a cost", ha="center", transform=a3.transAxes, color=FAIL)
        a3.set_xticks([]), a3.set_yticks([])
    import matplotlib.dates as mdates

    for ax in (a2, a3):
        locator = mdates.AutoDateLocator(maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(labelsize=7)
    return _save(fig, path)


def _trend_plot(d: dict[str, Any], path: Path) -> Path:
    plt = _plt()
    metrics = sorted({m for t in d["trends"] for m in t["metrics"]})
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(3 * max(1, len(metrics)), 2.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for entry in dict.fromkeys(t["entry"] for t in d["trends"]):
            pts = [t for t in d["trends"] if t["entry"] == entry and metric in t["metrics"]]
            if pts:
                ax.plot(range(len(pts)), [p["metrics"][metric]["value"] for p in pts], "o-",
                        label=f"{pts[0]['method']} {entry[:6]}")
        ax.set_title(metric, fontsize=9)
        ax.set_xticks(range(max(len([t for t in d["trends"] if t["entry"] == e]) for e in {t["entry"] for t in d["trends"]})))
        ax.set_xlabel("validation # (0 = registration, then re-validations)", fontsize=7)
        ax.tick_params(labelsize=7)
    if metrics:
        axes[0][0].legend(fontsize=6)
    else:
        axes[0][0].text(0.5, 0.5, "no validations yet", ha="center", transform=axes[0][0].transAxes)
    return _save(fig, path)


#: file name → plotting function, in dashboard order.
ADOPTION_FIGURES = {"coverage.png": _coverage_plot, "activity.png": _activity_plot, "trends.png": _trend_plot}


def prepare_adoption_dashboard(**parameters: Any) -> dict[str, Any]:
    """Import the given CSVs into the registry, compute the dashboard, write its figures; return its data.

    Args:
        parameters: the notebook parameters (see :data:`kit.report.params.ADOPTION`).
    """
    from kit.govern.registry import Registry
    from kit.report.pilot import default_output_dir
    from kit.report.preflight import resolve_data

    p = check_parameters(schema=ADOPTION, given=parameters)
    as_of = datetime.date.fromisoformat(p["as_of"]) if p["as_of"] else utc_today()
    out = Path(p["output_dir"]) if p["output_dir"] else default_output_dir(kind="adoption", name="dashboard")
    with Registry.open(p["registry"] or None) as reg:
        if p["inventory"]:
            reg.import_inventory(resolve_data(p["inventory"]))
        if p["incidents"]:
            reg.import_incidents(resolve_data(p["incidents"]))
        data = collect(registry=reg, top_n=p["top_n"], cost_basis=p["cost_basis"], as_of=as_of)
    data["title"] = "Adoption dashboard" + (" (example data)" if data["example_data"] else "")
    data["figures"] = [fn(data, out / name).name for name, fn in ADOPTION_FIGURES.items()]
    c, i = data["coverage"], data["incidents"]
    data["headlines"] = [
        f"coverage: {c['share']:.1%} of {c['total_volume']:,} requests/day; top {c['top_n']}: {c['top_n_share']:.1%}",
        f"incidents: {i['gate']} caught at the gate, {i['production']} reached production",
        f"cumulative savings to {data['as_of']}: {data['savings']['total_usd']:,.0f} USD",
    ]
    data["output_dir"] = str(out)
    return data


def render_headlines(data: dict[str, Any]) -> str:
    """The example-data warning (when it applies) and the headline sentences, for the top of the page.

    Args:
        data: from :func:`prepare_adoption_dashboard`.
    """
    parts = []
    if data["example_data"]:
        parts.append(render_sentence("EXAMPLE DATA: the inventory and/or incident log are fictional "
                                     f"({', '.join(data['sources'])}); only the registry entries are real.",
                                     status="inconclusive"))
    return "\n".join(parts + [render_sentence(h) for h in data["headlines"]])


def _table(rows: list[dict[str, Any]], *, caption: str, empty: str, **kwargs: Any) -> str:
    if not rows:
        return f'<p style="font: 13px system-ui, sans-serif;"><b>{html.escape(caption)}</b>: {html.escape(empty)}</p>'
    return render_table(rows, caption=caption, **kwargs)


def render_dashboard(data: dict[str, Any]) -> str:
    """The dashboard's tables as HTML.

    Args:
        data: from :func:`prepare_adoption_dashboard`.
    """
    parts = []
    cov = [{"rank": r["rank"], "model": r["model"], "requests/day": r["requests_per_day"],
            "share": f"{r['volume_share']:.1%}", "cumulative": f"{r['cumulative_share']:.1%}",
            "covered": "yes" if r["covered"] else "no"} for r in data["coverage"]["rows"]]
    parts.append(render_table(cov, caption="Coverage, highest volume first (covered: served by a validated, promoted "
                              "quantized model)"))
    t = data["time_to_quantize"]
    parts.append(_table([{"model": r["model"], "first pilot": r["first_pilot"][:16], "promoted": r["promoted"][:16],
                          "days": round(r["hours"] / 24, 2), "followed": r.get("template_of") or "-"}
                         for r in t["rows"]],
                        caption="Time to quantize (first pilot → first promotion; followed: the validated pilot it "
                                "replayed with --like)", empty="no model promoted yet"))
    split = [{"pilot": kind, "models": v["models"], "median days": round(v["median_hours"] / 24, 2)
              if v["median_hours"] is not None else "-"} for kind, v in (t.get("by_kind") or {}).items()]
    if split:
        parts.append(_table(split, caption="Time to quantize: first pilots vs templated ones (kit pilot --like)",
                            empty="no model promoted yet"))
    if t["not_promoted"]:
        parts.append(f"<p>Piloted, not promoted yet: {html.escape(', '.join(t['not_promoted']))}</p>")
    parts.append(_table(data["incidents"]["by_month"], caption="Regression incidents by month and stage",
                        empty="none logged", status_columns=()))
    parts.append(_table([{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                         for r in data["savings"]["per_model"]],
                        caption=f"Savings per covered model (USD/day; cost ratio measured, {data['cost_basis']} basis)",
                        empty="no covered model yet"))
    trend = [{"model": r["model"], "entry": r["entry"], "method": r["method"], "validated": r["validated_at"][:16],
              "kind": r["kind"], "torch": r["torch"], "status": "pass" if r["passed"] else "fail",
              **{k: round(v["value"], 4) for k, v in r["metrics"].items()}} for r in data["trends"]]
    parts.append(_table(trend, caption="Per-model trend across validations (re-validations after upgrades included)",
                        empty="no validations yet"))
    return "\n".join(parts)
