#!/usr/bin/env python3
"""Write the one generated table of notebook times into the docs, and the plan-for minutes into the README.

The table comes from ``kit.teach.onboarding.times_table`` (word counts of every notebook and
solution, the stated reading speeds, and the run times in ``docs/onboarding-times.json``);
``docs/onboarding.md`` and ``docs/notebooks.md`` hold it between the onboarding-table markers.
``tests/teach/test_onboarding.py`` fails when a document drifts from it. Run from the repository
root after ``kit onboarding --measure`` or after changing a notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kit.teach.onboarding import estimate, sync_table, times_table

DOCS = ("docs/onboarding.md", "docs/notebooks.md")


def readme_minutes(text: str, *, minutes: dict[str, int]) -> str:
    """The README's guided-path rows with their "plan for" minutes replaced by the estimate."""
    def fix(m: re.Match[str]) -> str:
        return f"{m.group(1)}{minutes[m.group(2)]} min |" if m.group(2) in minutes else m.group(0)

    return re.sub(r"^(\| `(\d\d_\w+)` \|.*\| )\d+ min \|$", fix, text, flags=re.M)


def main() -> None:
    root = Path(".")
    times = json.loads((root / "docs" / "onboarding-times.json").read_text(encoding="utf-8"))
    table = times_table(root=root, times=times)
    for name in DOCS:
        path = root / name
        path.write_text(sync_table(path.read_text(encoding="utf-8"), table=table, where=name), encoding="utf-8")
        print(f"wrote {name}")
    rows = estimate(paths=sorted((root / "notebooks").glob("*.ipynb")), run_seconds=times.get("seconds", {}))
    readme = root / "README.md"
    readme.write_text(readme_minutes(readme.read_text(encoding="utf-8"),
                                     minutes={r["notebook"]: r["total_min"] for r in rows}), encoding="utf-8")
    print("wrote README.md")


if __name__ == "__main__":
    main()
