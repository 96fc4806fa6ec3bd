"""Teaching: auto-checks, exercise generation, the widget panel, plots and the cost model.

Main names load lazily from their modules; the exercises' checks stay a module
(``from kit.teach import check``).
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "kit.govern.costs": ("assess", "monthly_savings", "payback_months"),
    ".plots": ("accuracy_by_category", "accuracy_vs_memory", "latency_bars"),
    ".published": ("provenance", "published", "study_rows"),
    ".widgets": ("Selection", "build_panel", "render_result", "run_selection", "widgets_available"),
})
