"""PNG screenshots of the report pack's four kinds of page for the documentation (docs/screenshots/), and the
same pages printed to PDF through the print stylesheet (beside the pack, not committed).

    python -m tools.screenshots [--reports-dir data/reports] [--period 2024Q4] [--out docs/screenshots]

Renders the pack `make run` wrote (`hqd report --period ...` writes another). Needs chromium and
fonts-noto-cjk (tools/ensure_browser.sh); `pngquant`, when installed, makes the PNGs about a third as large.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hqd.settings import PROJECT_DIR, Settings
from tools import browser

CITY, COUNTY = "321000", "320583"  # 扬州 and 昆山
# name → (page in the pack, viewport height: the top of the page, where each page says what it is)
PAGES = {
    "letter-city": (f"letters/{CITY}.html", 2300),
    "letter-county": (f"letters/{COUNTY}.html", 2300),
    "overview": ("overview.html", 1700),
    "warnings": ("warnings.html", 1500),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports-dir", type=Path, default=Settings().reports_dir)
    parser.add_argument("--period", default="2024Q4")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args(argv)
    problem = browser.missing()
    if problem:
        print(f"screenshots: {problem}")
        return 2
    pack = args.reports_dir / args.period
    if not (pack / "index.html").exists():
        print(f"screenshots: no report pack at {pack}: run `make run` or `hqd report --period {args.period}` first")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    pdf_dir = pack.parent / f"{args.period}-pdf"
    pdf_dir.mkdir(exist_ok=True)
    for name, (page, height) in PAGES.items():
        png = args.out / f"{name}.png"
        started = time.perf_counter()
        browser.screenshot(pack / page, png, width=args.width, height=height)
        shot = time.perf_counter() - started
        if shutil.which("pngquant"):
            subprocess.run(
                ["pngquant", "--force", "--skip-if-larger", "--output", str(png), "256", str(png)], check=False
            )
        started = time.perf_counter()
        browser.print_to_pdf(pack / page, pdf_dir / f"{name}.pdf")
        printed = time.perf_counter() - started
        size = (pack / page).stat().st_size
        print(
            f"{name}: {page} {size / 1e3:.0f} kB, screenshot {shot:.1f} s → {png} ({png.stat().st_size / 1e3:.0f} kB), "
            f"PDF {printed:.1f} s → {pdf_dir / (name + '.pdf')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
