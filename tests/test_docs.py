"""The README is a front door: short, and every relative link in it and in docs/ leads somewhere real."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def _broken(page: Path, *, root: Path = ROOT) -> list[str]:
    broken = []
    for match in _LINK.finditer(_FENCE.sub("", page.read_text())):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...: not checked offline
            continue
        path, _, anchor = unquote(target).partition("#")
        dest = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}: ({target})"
        if not dest.exists():
            broken.append(f"{where} -> no such file {dest.relative_to(root) if dest.is_relative_to(root) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{where} -> no heading #{anchor} in {dest.name}")
    return broken


def test_the_link_checker_catches_missing_files_and_headings(tmp_path):
    (tmp_path / "a.md").write_text("# Top Part\n\n## The `kit.eval/1` record\n")
    page = tmp_path / "b.md"
    page.write_text("[ok](a.md#top-part) [ok2](a.md#the-kiteval1-record) [web](https://x.y/z)\n"
                    "[gone](missing.md) [bad](a.md#nowhere)\n```\n[in code](ignored.md)\n```\n")
    problems = _broken(page, root=tmp_path)
    assert len(problems) == 2 and "missing.md" in problems[0] and "#nowhere" in problems[1]


def test_every_relative_link_resolves():
    assert len(PAGES) > 3
    broken = [p for page in PAGES for p in _broken(page)]
    assert broken == [], "broken links:\n" + "\n".join(broken)


def test_readme_is_a_front_door():
    """Under ~200 lines, links the deep pages, and no longer carries merged copies of them."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert "MERGED-DOCS" not in text and "<!-- from docs/" not in text
    linked = set(re.findall(r"\]\(docs/([^)#]+)", text))
    assert {p.name for p in PAGES if p.parent.name == "docs"} <= linked, "every docs page is reachable from the README"


def test_generated_doc_blocks_match_the_published_results():
    """Tables copied from benchmarks/results.json into the docs (e.g. the recovery study) are not edited by hand."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("results_file", ROOT / "benchmarks" / "results_file.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "benchmarks" / "results.json").is_file(), "run make bench and benchmarks/study.py"
    stale = module.sync_docs(ROOT, check=True)
    assert stale == [], f"{stale}: regenerate with `python benchmarks/results_file.py`"
