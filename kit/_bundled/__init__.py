"""Files the kit reads at run time, shipped inside the package: the sets, the policies, the report notebooks.

In the repository the top-level ``data/``, ``policies/`` and ``notebooks/`` folders are the sources
people read, review and edit; ``kit/_bundled/data``, ``kit/_bundled/policies`` and
``kit/_bundled/notebooks`` are relative symlinks to them, and building a wheel (or an sdist)
copies the files themselves into the package (``[tool.setuptools.package-data]`` in
pyproject.toml). Either way the kit finds them through :mod:`importlib.resources`, never
relative to the repository; ``$KIT_DATA`` and ``$KIT_POLICIES`` still override.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from kit.errors import KitError

__all__ = ["bundled_path"]


def bundled_path(*parts: str) -> Path:
    """The path of a bundled file or folder, e.g. ``bundled_path("data", "eval")``.

    Args:
        parts: path components below ``kit/_bundled`` (``data/...``, ``policies/...``, ``notebooks/...`` or ``solutions/...``).
    """
    root = files(__name__)
    if not isinstance(root, Path):  # a zipped install: the sets are read by path, so they must be files
        raise KitError(f"kit is installed as a zip ({root}); install it unpacked (pip install quant-kit) "
                       "or set KIT_DATA / KIT_POLICIES to folders")
    return root.joinpath(*parts)
