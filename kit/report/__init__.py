"""Reports for leadership: the papermill pilot report, the adoption dashboard, the upgrade report.

Main names load lazily from their modules (``from kit.report import prepare_pilot_report``);
the report notebooks' fragments stay a module (``from kit.report import render``).
"""

from kit._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    ".batch": ("run_batch",),
    ".dashboard": ("prepare_adoption_dashboard", "render_dashboard", "render_headlines"),
    ".pilot": ("prepare_pilot_report", "save_summary"),
    ".revalidation": ("prepare_revalidation", "render_revalidation"),
    ".summary": ("build_summary",),
})
