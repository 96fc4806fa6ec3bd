"""Reports for leadership: the papermill pilot report, the adoption dashboard, the upgrade report."""

__all__: list[str] = []
