#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the dashboard's browser tests (Playwright drives /usr/bin/chromium;
# Playwright's own browser downloads are never used). Idempotent: does nothing when it is there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf 'ensure_browser: %s\n' "$*"; }
die() {
    printf 'ensure_browser: ERROR: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root, and sudo is not available: run this script as root, or install chromium yourself"
    fi
}

if [[ ! -x $CHROMIUM ]]; then
    command -v apt-get >/dev/null 2>&1 || die "no $CHROMIUM and no apt-get to install it: install chromium yourself"
    say "apt-get install chromium"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
say "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
