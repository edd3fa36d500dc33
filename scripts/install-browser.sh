#!/bin/sh
# Install Debian's Chromium for the browser tests (tests/web/test_browser.py), only when it is missing.
# Playwright drives it with executable_path=/usr/bin/chromium: never run `playwright install`.
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y chromium
