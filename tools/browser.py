"""Headless Chromium for the report pack's render test and screenshots, through chromium's own flags (no driver):
`--dump-dom` for the rendered DOM, `--screenshot` and `--print-to-pdf`, and `--log-net-log` to see every request
the page made. Debian's `chromium` with `fonts-noto-cjk` for Chinese text (tools/ensure_browser.sh installs them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# a browser that does nothing of its own accord, so that its net log holds only what the page asks for
QUIET = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--no-pings",
    "--disable-features=SpellCheck,Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]
# browser-made requests (sign-in, updater) carry no document origin: chromium logs them as this initiator
BROWSER_INITIATOR = "not an origin"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def has_cjk_font() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def missing() -> str | None:
    """What is missing to render the pages, said as what to do; None when ready."""
    lacking = [name for name, ok in (("chromium", chromium()), ("fonts-noto-cjk", has_cjk_font())) if not ok]
    if not lacking:
        return None
    return (
        f"needs {' and '.join(lacking)}: run tools/ensure_browser.sh as root (apt-get install -y {' '.join(lacking)})"
    )


@dataclass
class Rendered:
    dom: str
    page_requests: list[str]  # URLs of every request a document made (file:// loads are not network requests)
    browser_requests: list[str]  # the browser's own, made despite QUIET (none of the page's doing)
    seconds: float


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="hqd-chromium-") as profile:
        return subprocess.run(
            [chromium() or "chromium", *QUIET, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def requests_in_net_log(path: Path) -> tuple[list[str], list[str]]:
    """(requests a page made, requests the browser made) from a chromium net log."""
    log = json.loads(path.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page, browser = [], []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "url" in params:
            (browser if params.get("initiator") == BROWSER_INITIATOR else page).append(params["url"])
    return page, browser


def render(page: Path, work_dir: Path) -> Rendered:
    """The page's DOM after loading, with the requests it made."""
    import time

    net_log = work_dir / f"{page.stem}.netlog.json"
    started = time.perf_counter()
    done = _run([f"--log-net-log={net_log}", "--dump-dom", page.resolve().as_uri()])
    seconds = time.perf_counter() - started
    page_requests, browser_requests = requests_in_net_log(net_log)
    return Rendered(done.stdout, page_requests, browser_requests, seconds)


def screenshot(page: Path, png: Path, *, width: int = 1200, height: int = 1800, print_media: bool = False) -> None:
    args = [f"--window-size={width},{height}", f"--screenshot={png.resolve()}"]
    if print_media:  # the print stylesheet's layout, as the browser's print uses it
        args.append("--blink-settings=mediaTypeOverride=print")
    _run([*args, page.resolve().as_uri()])


def print_to_pdf(page: Path, pdf: Path) -> None:
    """The browser's print (A4 from the page's @page rule) into a PDF; Chinese needs a CJK font installed."""
    _run([f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer", page.resolve().as_uri()])
