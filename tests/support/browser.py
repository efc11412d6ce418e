"""Headless Chromium for the offline checks: which requests a page makes to the network while it loads.

Chromium's net log records every request of the network stack. A page opened from a file makes none unless it
fetches something from the web; Chromium's own background requests (updates, accounts) carry no page origin
("not an origin") and are left out, the page's carry its origin ("null" for a file).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = "chromium is not installed (Debian package chromium; tools/ensure_browser.sh installs it)"
BROWSER_OWN = "not an origin"


def _read_net_log(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a log cut at exit lacks its closing brackets
        return json.loads(text.rstrip().rstrip(",") + "]}")


def page_requests(page: Path, work_dir: Path, *, budget_ms: int = 5000) -> list[str]:
    """The URLs the page asked the network for while loading (scripts run for `budget_ms` of virtual time)."""
    assert CHROMIUM, MISSING
    net_log = work_dir / f"{page.stem}.netlog.json"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={work_dir / 'chromium-profile'}",
            f"--log-net-log={net_log}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    log = _read_net_log(net_log)
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    return [
        event["params"]["url"]
        for event in log["events"]
        if names.get(event["type"]) == "URL_REQUEST_START_JOB"
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != BROWSER_OWN
    ]
