"""Teaching: auto-checks, exercise generation, the widget panel, plots and the cost model."""

__all__: list[str] = []
