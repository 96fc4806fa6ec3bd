"""A headless-Chromium screenshot of a rendered report (``report.html``), for README.md and docs/reports.md.

The same rendering as the report test's real-browser check (tests/report/test_pilot_report.py):
Debian's ``chromium`` in headless mode, a fixed window, the page as a person sees it.

    python scripts/report_screenshot.py reports/pilot                 # writes docs/img/pilot-report.png
    python scripts/report_screenshot.py reports/pilot --out /tmp/shot.png --height 3000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Render ``<report>/report.html`` and save the screenshot."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", help="a report folder written by `kit report pilot`")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img" / "pilot-report.png"), help="PNG to write")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2600)
    args = ap.parse_args(argv)
    page = Path(args.report) / "report.html"
    if not page.is_file():
        print(f"error: {page} does not exist; render the report first (`kit report pilot ... --out {args.report}`)",
              file=sys.stderr)
        return 2
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        print("error: no Chromium found; install Debian's `chromium` package (apt-get install -y chromium)",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp.png")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={args.width},{args.height}", f"--screenshot={tmp}", page.resolve().as_uri()],
                   check=True, timeout=180, capture_output=True)
    tmp.replace(out)
    print(f"wrote {out} ({args.width}×{args.height}) from {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
