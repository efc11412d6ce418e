#!/bin/sh
# Headless Chromium and a CJK font for the report pack's render test and screenshots (tests/hqd/reports,
# tools/screenshots.py): Debian's `chromium` and `fonts-noto-cjk`, installed when missing. Needs root (apt-get);
# otherwise it says what to install and the render tests skip with the same message.
set -u
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "ensure_browser: missing$missing; install as root: apt-get install -y$missing (the render tests skip meanwhile)"
    exit 0
fi
echo "ensure_browser: installing$missing (Debian packages, about 300 MB)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { echo "ensure_browser: apt-get install$missing failed; the render tests will skip"; exit 0; }
