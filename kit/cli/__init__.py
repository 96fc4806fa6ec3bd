"""The ``kit`` command line: one module per command group, imported by :mod:`kit.cli.main`."""

__all__: list[str] = []
