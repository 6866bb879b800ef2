#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the dashboard's browser tests (Playwright drives /usr/bin/chromium;
# Playwright's own browser downloads are never used). Idempotent: does nothing when it is there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

if [[ ! -x $CHROMIUM ]]; then
    command -v apt-get >/dev/null 2>&1 || die "no $CHROMIUM and no apt-get to install it: install chromium yourself"
    say "apt-get install chromium"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
say "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
